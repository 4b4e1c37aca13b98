/// The spec files of one source tree (a directory, or a git commit), read under one set of rules
/// whatever the tree is, so `reclaw validate`, `plan`/`apply` and the daemon see the same files:
///
/// - only `*.yaml`/`*.yml` names are spec files; anything else is passed over by name, never read;
/// - names starting with `.` (files and directories) are skipped;
/// - links are never followed: a spec-named link, like any spec-named entry that is not a regular
///   file, is *unreadable*, and so is a spec file over `SpecTreeLimits.maxFileBytes`;
/// - a tree over the other limits (depth, entries, spec files, total bytes) is not read at all.
public struct SpecTree: Sendable, Hashable {
    /// The readable spec files, by path.
    public var files: [SpecFile]
    /// Spec-named paths that exist but cannot be used, with why: a link, not a regular file, too
    /// large, unreadable. They may hold deployments; nothing they could hold may be acted on.
    public var unreadable: [String: String]

    public init(files: [SpecFile] = [], unreadable: [String: String] = [:]) {
        self.files = files.sorted { $0.path < $1.path }
        self.unreadable = unreadable
    }

    /// Every spec-named path in the tree, in any form, readable or not.
    public var paths: Set<String> { Set(files.map(\.path)).union(unreadable.keys) }

    /// Both trees' files (validate reads several paths).
    public mutating func merge(_ other: SpecTree) {
        var byPath = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        for f in other.files where byPath[f.path] == nil { byPath[f.path] = f }
        files = byPath.values.sorted { $0.path < $1.path }
        unreadable.merge(other.unreadable) { a, _ in a }
    }

    /// Reads a tree through `browser` from `root`, whose entries' paths start with `prefix`
    /// (`""` or `"specs/"`). The walk is iterative: a deep tree costs no stack.
    public static func walk<Browser: SpecTreeBrowser>(_ browser: Browser, root: Browser.Handle, prefix: String,
                                                      limits: SpecTreeLimits) throws(SpecTreeError) -> SpecTree {
        var tree = SpecTree()
        var pending: [(handle: Browser.Handle, prefix: String, depth: Int)] = [(root, prefix, 0)]
        var entries = 0, specFiles = 0, bytes = 0
        while let directory = pending.popLast() {
            let listing = try browser.entries(of: directory.handle, path: directory.prefix)
            entries += listing.count
            if entries > limits.maxEntries {
                throw SpecTreeError(.tooManyEntries, path: directory.prefix.isEmpty ? "." : String(directory.prefix.dropLast()),
                                    "the source has more than \(limits.maxEntries) files and directories; reclaw reads at most \(limits.maxEntries) (point --path at the specs)")
            }
            for entry in listing.sorted(by: { $0.name > $1.name }) {  // popped in name order
                if entry.name.hasPrefix(".") { continue }
                let path = directory.prefix + entry.name
                if case .directory = entry.kind {
                    if directory.depth + 1 > limits.maxDepth {
                        throw SpecTreeError(.tooDeep, path: path,
                                            "the source is more than \(limits.maxDepth) directories deep; reclaw reads at most \(limits.maxDepth) levels")
                    }
                    pending.append((entry.handle, path + "/", directory.depth + 1))
                    continue
                }
                guard SpecLoader.isSpecPath(entry.name) else { continue }
                specFiles += 1
                if specFiles > limits.maxSpecFiles {
                    throw SpecTreeError(.tooManySpecFiles, path: path,
                                        "the source has more than \(limits.maxSpecFiles) *.yaml/*.yml files; reclaw reads at most \(limits.maxSpecFiles)")
                }
                switch entry.kind {
                case .directory:
                    continue
                case .symbolicLink:
                    tree.unreadable[path] = "is a symbolic link; reclaw reads regular files only"
                case .other(let what):
                    tree.unreadable[path] = "is \(what), not a regular file; reclaw reads regular files only"
                case .file(let size):
                    if size > limits.maxFileBytes {
                        tree.unreadable[path] = "is \(ByteCount(size)) (\(size) bytes); reclaw reads spec files up to \(ByteCount(limits.maxFileBytes))"
                        continue
                    }
                    bytes += size
                    if bytes > limits.maxTotalBytes {
                        throw SpecTreeError(.tooManyBytes, path: path,
                                            "the source's spec files hold more than \(ByteCount(limits.maxTotalBytes)); reclaw reads at most that much")
                    }
                    do {
                        let contents = try browser.contents(of: entry.handle, path: path, size: size, limit: limits.maxFileBytes)
                        if contents.count > limits.maxFileBytes {
                            tree.unreadable[path] = "is over \(ByteCount(limits.maxFileBytes)); reclaw reads spec files up to \(ByteCount(limits.maxFileBytes))"
                        } else {
                            tree.files.append(SpecFile(path: path, bytes: contents))
                        }
                    } catch {
                        tree.unreadable[path] = "cannot be read: \(error.message)"
                    }
                }
            }
        }
        tree.files.sort { $0.path < $1.path }
        return tree
    }
}

/// What a tree says an entry is. Links are reported as links, never resolved.
public enum SpecTreeEntryKind: Sendable, Hashable {
    case directory
    /// A regular file of `size` bytes, as the tree records it (before reading it).
    case file(size: Int)
    case symbolicLink
    /// Anything else (a submodule, a FIFO, a device, a socket), described for messages.
    case other(String)
}

/// One entry of a directory listing.
public struct SpecTreeEntry<Handle>: @unchecked Sendable {
    public var name: String
    public var kind: SpecTreeEntryKind
    public var handle: Handle

    public init(name: String, kind: SpecTreeEntryKind, handle: Handle) {
        self.name = name
        self.kind = kind
        self.handle = handle
    }
}

/// Lists and reads one kind of tree (a directory on disk, a git commit's tree) for `SpecTree.walk`.
public protocol SpecTreeBrowser {
    associatedtype Handle
    /// The entries of a directory, without following links. A directory that cannot be listed
    /// fails the whole read: it may hold specs.
    func entries(of directory: Handle, path: String) throws(SpecTreeError) -> [SpecTreeEntry<Handle>]
    /// A regular file's bytes; more than `limit` bytes may be refused or cut at `limit + 1`.
    func contents(of file: Handle, path: String, size: Int, limit: Int) throws(SpecFileReadError) -> [UInt8]
}

/// Bounds on what reading a source may cost: a repository is untrusted input.
public struct SpecTreeLimits: Sendable, Hashable {
    /// Largest spec file read; a larger one is unreadable (the YAML parser's own limit, 1 MiB).
    public var maxFileBytes: Int
    /// Largest sum of spec file sizes.
    public var maxTotalBytes: Int
    /// Deepest directory level below the source's path.
    public var maxDepth: Int
    /// Most directory entries looked at (files, directories, links, anything).
    public var maxEntries: Int
    /// Most `*.yaml`/`*.yml` entries.
    public var maxSpecFiles: Int

    public init(maxFileBytes: Int = 1 << 20, maxTotalBytes: Int = 64 << 20, maxDepth: Int = 32,
                maxEntries: Int = 100_000, maxSpecFiles: Int = 10_000) {
        self.maxFileBytes = maxFileBytes
        self.maxTotalBytes = maxTotalBytes
        self.maxDepth = maxDepth
        self.maxEntries = maxEntries
        self.maxSpecFiles = maxSpecFiles
    }
}

/// A source tree that cannot be read as a whole: missing, a link, unlistable, or over a limit.
public struct SpecTreeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case notFound = "not-found"
        case symbolicLink = "symbolic-link"
        case notADirectory = "not-a-directory"
        case unreadable
        case tooDeep = "too-deep"
        case tooManyEntries = "too-many-entries"
        case tooManySpecFiles = "too-many-spec-files"
        case tooManyBytes = "too-many-bytes"
    }

    public var code: Code
    public var path: String
    public var message: String

    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(SafeText.escaped(path)): \(message)" }
}

/// One file that cannot be read; the rest of the tree still is.
public struct SpecFileReadError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// A byte count for messages: `512.0 MiB`, `1 MiB`, `300 bytes`.
struct ByteCount: CustomStringConvertible {
    var bytes: Int
    init(_ bytes: Int) { self.bytes = bytes }

    var description: String {
        if bytes < 1024 { return "\(bytes) bytes" }
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size {
            if bytes % size == 0 { return "\(bytes / size) \(unit)" }
            let tenths = (bytes * 10 + size / 2) / size
            return "\(tenths / 10).\(tenths % 10) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
