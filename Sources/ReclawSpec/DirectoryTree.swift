import Foundation

extension SpecTree {
    /// The spec files at `path` on disk: a directory (recursively), or one file. `path` itself
    /// must be a real directory or regular file, not a link: inside a repository a link is what
    /// git stores as one, which the git source never follows either.
    public static func read(directory path: String, limits: SpecTreeLimits = SpecTreeLimits()) throws(SpecTreeError) -> SpecTree {
        let shown = path
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw SpecTreeError(.notFound, path: shown, "no such file or directory") }
            throw SpecTreeError(.unreadable, path: shown, "cannot be read: \(String(cString: strerror(e)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            throw SpecTreeError(.symbolicLink, path: shown, "is a symbolic link; reclaw does not follow links (name the directory or file itself)")
        case S_IFREG:
            // A file named on the command line is read whatever its name.
            let browser = DirectoryBrowser()
            let size = Int(info.st_size)
            if size > limits.maxFileBytes {
                return SpecTree(unreadable: [path: "is \(ByteCount(size)) (\(size) bytes); reclaw reads spec files up to \(ByteCount(limits.maxFileBytes))"])
            }
            do {
                let bytes = try browser.contents(of: path, path: path, size: size, limit: limits.maxFileBytes)
                if bytes.count > limits.maxFileBytes {
                    return SpecTree(unreadable: [path: "is over \(ByteCount(limits.maxFileBytes)); reclaw reads spec files up to \(ByteCount(limits.maxFileBytes))"])
                }
                return SpecTree(files: [SpecFile(path: path, bytes: bytes)])
            } catch {
                return SpecTree(unreadable: [path: "cannot be read: \(error.message)"])
            }
        case S_IFDIR:
            var base = path
            while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
            let prefix = base == "." ? "" : (base == "/" ? "/" : base + "/")
            return try walk(DirectoryBrowser(), root: base, prefix: prefix, limits: limits)
        default:
            throw SpecTreeError(.notADirectory, path: shown, "is neither a directory nor a regular file")
        }
    }
}

/// Lists directories with `readdir` and `lstat` (links reported, never followed) and reads files
/// with `O_NOFOLLOW | O_NONBLOCK`, so a file swapped for a link or a FIFO after listing is refused
/// rather than followed or waited on.
struct DirectoryBrowser: SpecTreeBrowser {
    func entries(of directory: String, path: String) throws(SpecTreeError) -> [SpecTreeEntry<String>] {
        guard let dir = opendir(directory) else {
            let e = errno
            throw SpecTreeError(.unreadable, path: directory, "the directory cannot be listed: \(String(cString: strerror(e)))")
        }
        defer { closedir(dir) }
        var out: [SpecTreeEntry<String>] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let full = directory == "/" ? "/" + name : directory + "/" + name
            // Hidden entries are skipped by the walk; no need to look at them.
            if name.hasPrefix(".") {
                out.append(SpecTreeEntry(name: name, kind: .other("hidden"), handle: full))
                continue
            }
            var kind: SpecTreeEntryKind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symbolicLink
            case Int32(DT_REG) where !SpecLoader.isSpecPath(name): kind = .file(size: 0)  // never read
            default:
                var info = stat()
                guard lstat(full, &info) == 0 else {
                    let e = errno
                    if SpecLoader.isSpecPath(name) {
                        kind = .other("an entry that cannot be examined (\(String(cString: strerror(e))))")
                        break
                    }
                    continue
                }
                kind = Self.kind(of: info)
            }
            out.append(SpecTreeEntry(name: name, kind: kind, handle: full))
        }
        return out
    }

    func contents(of file: String, path: String, size: Int, limit: Int) throws(SpecFileReadError) -> [UInt8] {
        let fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ELOOP { throw SpecFileReadError("it became a symbolic link") }
            throw SpecFileReadError(String(cString: strerror(e)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw SpecFileReadError("it is not a regular file") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(Int(info.st_size), limit) + 1)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpecFileReadError(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<min(n, limit + 1 - bytes.count)])
        }
        return bytes
    }

    static func kind(of info: stat) -> SpecTreeEntryKind {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file(size: Int(info.st_size))
        case S_IFLNK: return .symbolicLink
        case S_IFIFO: return .other("a FIFO")
        case S_IFSOCK: return .other("a socket")
        case S_IFCHR, S_IFBLK: return .other("a device")
        default: return .other("an entry of unknown type")
        }
    }
}
