import Foundation
internal import CGit2

/// A bare repository used as a cache of a remote: fetch into it, resolve refs, read files at a
/// commit without any working tree. One instance owns one git_repository handle.
public final class GitRepository: @unchecked Sendable {
    let pointer: OpaquePointer
    let lock = NSLock()
    public let path: String

    private init(pointer: OpaquePointer, path: String) {
        self.pointer = pointer
        self.path = path
    }

    deinit { git_repository_free(pointer) }

    /// Opens the bare repository at `path`, creating it (and its parents) if it does not exist.
    public static func openOrCreateBare(at path: String) throws(GitError) -> GitRepository {
        GitLibrary.ensureInitialized()
        var repo: OpaquePointer?
        if FileManager.default.fileExists(atPath: path + "/HEAD") {
            try check(git_repository_open_bare(&repo, path), "open bare repository \(path)")
        } else {
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try check(git_repository_init(&repo, path, 1), "create bare repository \(path)")
        }
        return GitRepository(pointer: repo!, path: path)
    }

    /// Fetches every branch of `url` into refs/remotes/origin/ and every tag into refs/tags/,
    /// forcing updates (so force-pushes are followed) and pruning what the remote deleted.
    /// Over SSH, `verifyHostKey` must accept the server's key or the fetch fails before any
    /// credential is offered. The fetch ends by `limits.timeout`, whatever the remote does (see
    /// `FetchWatchdog`); a connection attempt ends by `limits.connectTimeout`.
    public func fetch(from url: String, credentials: GitCredentials? = nil, verifyHostKey: SSHHostKeyVerifier? = nil,
                      limits: GitFetchLimits = GitFetchLimits()) throws(GitError) {
        lock.lock()
        defer { lock.unlock() }
        let operation = "fetch \(Self.redacted(url))"
        // The URL is fetched as given: git's `url.*.insteadOf` settings are not applied. (Looking
        // them up, as git_remote_create_anonymous does, also leaks a PCRE2 match block per call in
        // libgit2 1.5, tens of kilobytes a fetch for a daemon that never stops.)
        var createOptions = git_remote_create_options()
        try check(git_remote_create_options_init(&createOptions, UInt32(GIT_REMOTE_CREATE_OPTIONS_VERSION)), "remote options")
        createOptions.repository = pointer
        createOptions.flags = UInt32(GIT_REMOTE_CREATE_SKIP_INSTEADOF.rawValue | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC.rawValue)
        var remote: OpaquePointer?
        try check(git_remote_create_with_opts(&remote, url, &createOptions), operation)
        let handle = GitRemoteHandle(remote!)
        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "fetch options")
        options.prune = GIT_FETCH_PRUNE
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
        let watchdog = FetchWatchdog(limits: limits, remotePort: Self.networkPort(url))
        let box = CredentialBox(credentials, verifyHostKey: verifyHostKey, port: Self.sshPort(url), watchdog: watchdog)
        options.callbacks.payload = Unmanaged.passUnretained(box).toOpaque()
        options.callbacks.credentials = { out, _, usernameFromURL, allowed, payload in
            let box = Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue()
            if box.watchdog.expired { return GIT_EUSER.rawValue }
            return box.acquire(out: out, usernameFromURL: usernameFromURL, allowed: allowed)
        }
        options.callbacks.certificate_check = { cert, _, host, payload in
            let box = Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue()
            if box.watchdog.expired { return GIT_EUSER.rawValue }
            return box.check(cert, host: host.map { String(cString: $0) } ?? "")
        }
        // Every other callback only asks whether the deadline has passed (or the remote sent too much).
        options.callbacks.transfer_progress = { stats, payload in
            let box = Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue()
            if let stats, box.watchdog.received(Int(stats.pointee.received_bytes)) { return GIT_EUSER.rawValue }
            return box.watchdog.expired ? GIT_EUSER.rawValue : 0
        }
        options.callbacks.sideband_progress = { _, _, payload in
            Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue().watchdog.expired ? GIT_EUSER.rawValue : 0
        }
        options.callbacks.update_tips = { _, _, _, payload in
            Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue().watchdog.expired ? GIT_EUSER.rawValue : 0
        }
        options.callbacks.remote_ready = { _, _, payload in
            Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue().watchdog.expired ? GIT_EUSER.rawValue : 0
        }
        let specs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
        watchdog.start()
        let code = withStrArray(specs) { arr in
            git_remote_fetch(handle.pointer, arr, &options, "reclaw fetch")
        }
        watchdog.finish()
        if code < 0, watchdog.receivedTooMuch {
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_NET.rawValue), operation: operation,
                           message: "the remote sent more than \(limits.maxReceivedBytes) bytes, the most one fetch may receive; reclaw stopped the fetch")
        }
        if code < 0, watchdog.connectTimedOut {
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_NET.rawValue), operation: operation,
                           message: "connecting timed out after \(Self.seconds(limits.connectTimeout)) (the fetch's connect timeout)", timedOut: true)
        }
        if code < 0, watchdog.expired {
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_NET.rawValue), operation: operation,
                           message: "timed out after \(Self.seconds(limits.timeout)) (the fetch timeout); the remote did not finish answering", timedOut: true)
        }
        if code < 0, let key = box.refusedKey {
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_SSH.rawValue), operation: operation,
                           message: "the SSH host key of \(key.host):\(key.port) (\(key.algorithm ?? "key") \(key.fingerprint)) is not trusted; add it to the known hosts or pin its fingerprint")
        }
        if code < 0, box.attempts > 1 || (credentials == nil && box.attempts > 0) {
            // libgit2's own message here can be a stale, unrelated one; say what happened.
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_NET.rawValue), operation: operation,
                           message: credentials == nil ? "the server asks for credentials and none are configured"
                                                       : "the server refused the credentials")
        }
        if code < 0, box.sawUnverifiedSSH {
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_SSH.rawValue), operation: operation,
                           message: "no trusted SSH host keys are configured, so the server cannot be verified; provide known hosts or a host key fingerprint")
        }
        try check(code, operation)
    }

    /// The commit a branch, tag or commit id names: remote branches first, then tags, then ids.
    public func resolve(_ ref: String) throws(GitError) -> String {
        lock.lock()
        defer { lock.unlock() }
        let candidates = ref.hasPrefix("refs/") ? [ref] : ["refs/remotes/origin/\(ref)", "refs/tags/\(ref)", "refs/heads/\(ref)", ref]
        var lastError: GitError?
        for spec in candidates {
            var object: OpaquePointer?
            let code = git_revparse_single(&object, pointer, spec)
            if code < 0 {
                lastError = GitError.last(code, "resolve \(ref)")
                continue
            }
            let obj = GitObjectHandle(object!)
            var peeled: OpaquePointer?
            try check(git_object_peel(&peeled, obj.pointer, GIT_OBJECT_COMMIT), "resolve \(ref) to a commit")
            let commit = GitObjectHandle(peeled!)
            return hex(git_object_id(commit.pointer))
        }
        throw GitError(code: GIT_ENOTFOUND.rawValue, errorClass: lastError?.errorClass ?? 0,
                       operation: "resolve \(ref)", message: "no branch, tag or commit named '\(ref)' in the fetched repository")
    }

    /// The tree entry at `path` ("" or "." for the root tree) in `commit`; nil when nothing is
    /// there.
    public func entry(at commit: String, path: String) throws(GitError) -> GitTreeEntryInfo? {
        lock.lock()
        defer { lock.unlock() }
        let root = try tree(of: commit)
        let dir = Self.normalize(path)
        if dir.isEmpty {
            return GitTreeEntryInfo(name: "", kind: .tree, id: GitObjectID(git_tree_id(root.pointer).pointee))
        }
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, root.pointer, dir)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "find \(dir) at \(commit)")
        let e = GitTreeEntryHandle(entry!)
        return GitTreeEntryInfo(e.pointer)
    }

    /// The entries of a tree object, as stored (links are links). A tree object larger than
    /// `maxObjectBytes` is refused before it is read.
    public func entries(ofTree id: GitObjectID, maxObjectBytes: Int) throws(GitError) -> [GitTreeEntryInfo] {
        lock.lock()
        defer { lock.unlock() }
        try refuseLarger(id, than: maxObjectBytes, errorClass: GIT_ERROR_TREE, operation: "read tree \(id)") {
            "the tree object is \($0) bytes; reclaw reads trees up to \(maxObjectBytes) bytes"
        }
        var oid = id.oid
        var t: OpaquePointer?
        try check(git_tree_lookup(&t, pointer, &oid), "read tree \(id)")
        let tree = GitTreeHandle(t!)
        let count = git_tree_entrycount(tree.pointer)
        var out: [GitTreeEntryInfo] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let entry = git_tree_entry_byindex(tree.pointer, i) else { continue }
            out.append(GitTreeEntryInfo(entry))
        }
        return out
    }

    /// An object's size from its header, without reading (or inflating) its contents.
    public func objectSize(_ id: GitObjectID) throws(GitError) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return try objectSizeLocked(id)
    }

    /// Throws when the object's header says it is larger than `limit`, before it is read.
    private func refuseLarger(_ id: GitObjectID, than limit: Int, errorClass: git_error_t, operation: String,
                              _ message: (Int) -> String) throws(GitError) {
        let size = try objectSizeLocked(id)
        if size > limit {
            throw GitError(code: -1, errorClass: Int32(errorClass.rawValue), operation: operation, message: message(size))
        }
    }

    private func objectSizeLocked(_ id: GitObjectID) throws(GitError) -> Int {
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, pointer), "open the object database")
        defer { git_odb_free(odb) }
        var length = 0
        var type = GIT_OBJECT_ANY
        var oid = id.oid
        try check(git_odb_read_header(&length, &type, odb, &oid), "read the header of \(id)")
        return length
    }

    /// A blob's bytes; a blob larger than `maxBytes` is refused from its header, before it is read.
    public func blob(_ id: GitObjectID, maxBytes: Int) throws(GitError) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        try refuseLarger(id, than: maxBytes, errorClass: GIT_ERROR_OBJECT, operation: "read blob \(id)") {
            "the blob is \($0) bytes; the limit is \(maxBytes)"
        }
        var oid = id.oid
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &oid), "read blob \(id)")
        let b = GitBlobHandle(blob!)
        let length = Int(git_blob_rawsize(b.pointer))
        return length == 0 ? [] : Array(UnsafeRawBufferPointer(start: git_blob_rawcontent(b.pointer), count: min(length, maxBytes + 1)))
    }

    private func tree(of commit: String) throws(GitError) -> GitTreeHandle {
        var oid = git_oid()
        try check(git_oid_fromstr(&oid, commit), "parse commit id \(commit)")
        var c: OpaquePointer?
        try check(git_commit_lookup(&c, pointer, &oid), "look up commit \(commit)")
        let commitHandle = GitCommitHandle(c!)
        var t: OpaquePointer?
        try check(git_commit_tree(&t, commitHandle.pointer), "read tree of \(commit)")
        return GitTreeHandle(t!)
    }

    private static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }
}

/// Answers libgit2's credential callback once per fetch, so a wrong secret fails instead of
/// looping, and its certificate callback for SSH host keys; carries the fetch's watchdog to every
/// callback.
private final class CredentialBox {
    let credentials: GitCredentials?
    let verifyHostKey: SSHHostKeyVerifier?
    let port: Int
    let watchdog: FetchWatchdog
    var attempts = 0
    var refusedKey: SSHHostKey?
    var sawUnverifiedSSH = false

    init(_ credentials: GitCredentials?, verifyHostKey: SSHHostKeyVerifier?, port: Int, watchdog: FetchWatchdog) {
        self.credentials = credentials
        self.verifyHostKey = verifyHostKey
        self.port = port
        self.watchdog = watchdog
    }

    /// TLS certificates keep libgit2's own validation; SSH host keys go to the verifier.
    func check(_ cert: UnsafeMutablePointer<git_cert>?, host: String) -> Int32 {
        guard let cert, cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return GIT_PASSTHROUGH.rawValue }
        guard let verifyHostKey else {
            sawUnverifiedSSH = true
            return GIT_ECERTIFICATE.rawValue
        }
        guard let key = SSHHostKey.from(cert, host: host, port: port) else { return GIT_ECERTIFICATE.rawValue }
        if verifyHostKey(key) { return 0 }
        refusedKey = key
        return GIT_ECERTIFICATE.rawValue
    }

    func acquire(out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?, usernameFromURL: UnsafePointer<CChar>?, allowed: UInt32) -> Int32 {
        attempts += 1
        guard attempts <= 1, let credentials else { return GIT_EAUTH.rawValue }
        switch credentials {
        case let .token(username, token):
            guard allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else { return GIT_PASSTHROUGH.rawValue }
            return git_credential_userpass_plaintext_new(out, username, token)
        case let .sshKey(username, privateKeyPath, publicKeyPath, passphrase):
            guard allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 else { return GIT_PASSTHROUGH.rawValue }
            let user = usernameFromURL.map { String(cString: $0) } ?? username
            return git_credential_ssh_key_new(out, user, publicKeyPath, privateKeyPath, passphrase)
        }
    }
}

/// Calls `body` with a git_strarray holding `strings`.
private func withStrArray<R>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) -> R) -> R {
    let cStrings = strings.map { strdup($0) }
    defer { cStrings.forEach { free($0) } }
    var pointers = cStrings
    return pointers.withUnsafeMutableBufferPointer { buf in
        var arr = git_strarray(strings: buf.baseAddress, count: buf.count)
        return body(&arr)
    }
}
