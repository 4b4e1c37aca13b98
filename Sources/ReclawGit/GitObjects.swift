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
