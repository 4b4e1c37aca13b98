import Foundation
internal import CGit2

/// Owns a git_commit.
final class GitCommitHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_commit_free(pointer) }
}

/// Owns a git_tree.
final class GitTreeHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_tree_free(pointer) }
}

/// Owns a git_tree_entry obtained by path (which the caller must free).
final class GitTreeEntryHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_tree_entry_free(pointer) }
}

/// Owns a git_blob.
final class GitBlobHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_blob_free(pointer) }
}

/// Owns a git_object.
final class GitObjectHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_object_free(pointer) }
}

/// Owns a git_remote.
final class GitRemoteHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_remote_free(pointer) }
}

/// A hex object id from libgit2's binary one.
func hex(_ oid: UnsafePointer<git_oid>) -> String {
    String(cString: git_oid_tostr_s(oid))
}

/// A git object id, kept as libgit2's binary form.
public struct GitObjectID: Sendable, Hashable, CustomStringConvertible {
    let bytes: [UInt8]

    init(_ oid: git_oid) {
        bytes = withUnsafeBytes(of: oid.id) { Array($0) }
    }

    var oid: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { raw in
            for (i, b) in bytes.enumerated() where i < raw.count { raw[i] = b }
        }
        return oid
    }

    /// The hex form.
    public var description: String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// One entry of a tree as git stores it: its name, what its file mode says it is, and its object.
public struct GitTreeEntryInfo: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case tree
        /// A file (mode 100644 or 100755).
        case blob
        /// A symbolic link (mode 120000): a blob holding the target, never followed.
        case link
        /// A submodule (mode 160000): a commit of another repository.
        case submodule
        case other
    }

    public var name: String
    public var kind: Kind
    public var id: GitObjectID

    public init(name: String, kind: Kind, id: GitObjectID) {
        self.name = name
        self.kind = kind
        self.id = id
    }

    init(_ entry: OpaquePointer) {
        name = String(cString: git_tree_entry_name(entry))
        id = GitObjectID(git_tree_entry_id(entry).pointee)
        switch git_tree_entry_filemode(entry) {
        case GIT_FILEMODE_TREE: kind = .tree
        case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE: kind = .blob
        case GIT_FILEMODE_LINK: kind = .link
        case GIT_FILEMODE_COMMIT: kind = .submodule
        default: kind = .other
        }
    }
}

/// Owns a git_odb_object.
final class GitODBObjectHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_odb_object_free(pointer) }
}

/// Owns a git_odb.
final class GitODBHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_odb_free(pointer) }
}

/// Owns a git_revwalk.
final class GitRevwalkHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_revwalk_free(pointer) }
}

/// Owns the memory of a git_buf libgit2 filled.
final class GitBufferHandle {
    var buffer = git_buf()
    init() {}
    deinit { git_buf_dispose(&buffer) }

    var bytes: [UInt8] {
        guard let ptr = buffer.ptr, buffer.size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: ptr, count: buffer.size))
    }
}
