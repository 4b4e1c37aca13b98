import Foundation
internal import CGit2

/// A signed git object as its verifier needs it: the signature git stored (if any), the exact
/// bytes it covers, and when the object says it was made.
public struct GitSignedObject: Sendable {
    public enum Kind: String, Sendable { case commit, tag }

    public var kind: Kind
    /// The object's id (the tag object's for a tag).
    public var id: String
    /// The commit the object names.
    public var commit: String
    /// The tag's name, for a tag.
    public var tagName: String?
    /// The armored signature; nil when the object is unsigned.
    public var signature: String?
    /// The bytes the signature covers: a commit without its `gpgsig` header, a tag without its
    /// trailing signature.
    public var signedData: [UInt8]
    /// The committer's (or tagger's) time.
    public var time: Date

    public init(kind: Kind, id: String, commit: String, tagName: String? = nil, signature: String?, signedData: [UInt8], time: Date) {
        self.kind = kind
        self.id = id
        self.commit = commit
        self.tagName = tagName
        self.signature = signature
        self.signedData = signedData
        self.time = time
    }
}

extension GitRepository {
    /// The object whose signature vouches for the tip of `ref`: an annotated tag's when `ref`
    /// names one that is signed, else the commit's. `ref` is looked up as `resolve` does.
    public func signedTip(_ ref: String) throws(GitError) -> GitSignedObject {
        let commit = try resolve(ref)
        lock.lock()
        defer { lock.unlock() }
        let candidates = ref.hasPrefix("refs/") ? [ref] : ["refs/remotes/origin/\(ref)", "refs/tags/\(ref)", "refs/heads/\(ref)", ref]
        for spec in candidates {
            var object: OpaquePointer?
            guard git_revparse_single(&object, pointer, spec) == 0, let object else { continue }
            let handle = GitObjectHandle(object)
            guard git_object_type(handle.pointer) == GIT_OBJECT_TAG else { break }
            let id = GitObjectID(git_object_id(handle.pointer).pointee)
            if let tag = try signedTagLocked(id, commit: commit), tag.signature != nil { return tag }
            break
        }
        return try signedCommitLocked(commit)
    }

    /// A commit's signature and the data it covers, from `git_commit_extract_signature`.
    public func signedCommit(_ commit: String) throws(GitError) -> GitSignedObject {
        lock.lock()
        defer { lock.unlock() }
        return try signedCommitLocked(commit)
    }

    /// The commits reachable from `tip` and not from `base`, newest first; an error past `limit`.
    public func commits(from base: String, to tip: String, limit: Int) throws(GitError) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, pointer), "walk the history")
        let handle = GitRevwalkHandle(walk!)
        git_revwalk_sorting(handle.pointer, GIT_SORT_TOPOLOGICAL.rawValue)
        var tipID = git_oid(), baseID = git_oid()
        try check(git_oid_fromstr(&tipID, tip), "parse commit id \(tip)")
        try check(git_oid_fromstr(&baseID, base), "parse commit id \(base)")
        try check(git_revwalk_push(handle.pointer, &tipID), "walk the history from \(tip)")
        try check(git_revwalk_hide(handle.pointer, &baseID), "walk the history since \(base)")
        var out: [String] = []
        var next = git_oid()
        while true {
            let code = git_revwalk_next(&next, handle.pointer)
            if code == GIT_ITEROVER.rawValue { break }
            try check(code, "walk the history from \(base) to \(tip)")
            out.append(hex(&next))
            if out.count > limit {
                throw GitError(code: -1, errorClass: Int32(GIT_ERROR_INVALID.rawValue), operation: "walk the history from \(base) to \(tip)",
                               message: "more than \(limit) new commits; reclaw verifies up to \(limit) at once")
            }
        }
        return out
    }

    private func signedCommitLocked(_ commit: String) throws(GitError) -> GitSignedObject {
        var oid = git_oid()
        try check(git_oid_fromstr(&oid, commit), "parse commit id \(commit)")
        var c: OpaquePointer?
        try check(git_commit_lookup(&c, pointer, &oid), "look up commit \(commit)")
        let handle = GitCommitHandle(c!)
        let time = Date(timeIntervalSince1970: TimeInterval(git_commit_time(handle.pointer)))
        let signature = GitBufferHandle(), signed = GitBufferHandle()
        let code = git_commit_extract_signature(&signature.buffer, &signed.buffer, pointer, &oid, nil)
        if code == GIT_ENOTFOUND.rawValue {
            return GitSignedObject(kind: .commit, id: commit, commit: commit, signature: nil, signedData: [], time: time)
        }
        try check(code, "read the signature of commit \(commit)")
        return GitSignedObject(kind: .commit, id: commit, commit: commit, signature: String(decoding: signature.bytes, as: UTF8.self),
                               signedData: signed.bytes, time: time)
    }

    /// A tag object's signature, split off its raw bytes the way git does (the signature is the
    /// last armored block of the message).
    private func signedTagLocked(_ id: GitObjectID, commit: String) throws(GitError) -> GitSignedObject? {
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, pointer), "open the object database")
        let database = GitODBHandle(odb!)
        var oid = id.oid
        var object: OpaquePointer?
        try check(git_odb_read(&object, database.pointer, &oid), "read tag \(id)")
        let handle = GitODBObjectHandle(object!)
        let size = git_odb_object_size(handle.pointer)
        guard let data = git_odb_object_data(handle.pointer) else { return nil }
        let raw = Array(UnsafeRawBufferPointer(start: data, count: size))
        let text = String(decoding: raw, as: UTF8.self)
        var name: String?, time = Date(timeIntervalSince1970: 0)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            if line.hasPrefix("tag ") { name = String(line.dropFirst(4)) }
            if line.hasPrefix("tagger "), let seconds = line.split(separator: " ").dropLast().last.flatMap({ Double($0) }) {
                time = Date(timeIntervalSince1970: seconds)
            }
        }
        let markers = ["-----BEGIN SSH SIGNATURE-----", "-----BEGIN PGP SIGNATURE-----"].map { Array(("\n" + $0).utf8) }
        var start: Int?
        for marker in markers {
            guard raw.count > marker.count else { continue }
            for i in stride(from: raw.count - marker.count, through: 0, by: -1) where raw[i..<i + marker.count].elementsEqual(marker) {
                start = max(start ?? 0, i + 1)
                break
            }
        }
        guard let start else {
            return GitSignedObject(kind: .tag, id: "\(id)", commit: commit, tagName: name, signature: nil, signedData: [], time: time)
        }
        return GitSignedObject(kind: .tag, id: "\(id)", commit: commit, tagName: name,
                               signature: String(decoding: raw[start...], as: UTF8.self), signedData: Array(raw[..<start]), time: time)
    }
}
