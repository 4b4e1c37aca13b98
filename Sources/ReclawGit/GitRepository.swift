import Foundation
internal import CGit2

/// How to authenticate to a remote; secrets here never appear in errors or logs.
public enum GitCredentials: Sendable {
    /// HTTP(S) basic authentication with a token as password.
    case token(username: String, token: String)
    /// An SSH key pair from files.
    case sshKey(username: String, privateKeyPath: String, publicKeyPath: String?, passphrase: String?)
}

/// One file read from a commit's tree.
public struct GitFile: Sendable, Equatable {
    /// The path relative to the repository root.
    public var path: String
    public var contents: [UInt8]

    public init(path: String, contents: [UInt8]) {
        self.path = path
        self.contents = contents
    }
}

/// A bare repository used as a cache of a remote: fetch into it, resolve refs, read files at a
/// commit without any working tree. One instance owns one git_repository handle.
public final class GitRepository: @unchecked Sendable {
    private let pointer: OpaquePointer
    private let lock = NSLock()
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
    /// credential is offered.
    public func fetch(from url: String, credentials: GitCredentials? = nil, verifyHostKey: SSHHostKeyVerifier? = nil) throws(GitError) {
        lock.lock()
        defer { lock.unlock() }
        var remote: OpaquePointer?
        try check(git_remote_create_anonymous(&remote, pointer, url), "fetch \(Self.redacted(url))")
        let handle = GitRemoteHandle(remote!)
        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "fetch options")
        options.prune = GIT_FETCH_PRUNE
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
        let box = CredentialBox(credentials, verifyHostKey: verifyHostKey, port: Self.sshPort(url))
        options.callbacks.payload = Unmanaged.passUnretained(box).toOpaque()
        options.callbacks.credentials = { out, _, usernameFromURL, allowed, payload in
            let box = Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue()
            return box.acquire(out: out, usernameFromURL: usernameFromURL, allowed: allowed)
        }
        options.callbacks.certificate_check = { cert, _, host, payload in
            let box = Unmanaged<CredentialBox>.fromOpaque(payload!).takeUnretainedValue()
            return box.check(cert, host: host.map { String(cString: $0) } ?? "")
        }
        let specs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
        let code = withStrArray(specs) { arr in
            git_remote_fetch(handle.pointer, arr, &options, "reclaw fetch")
        }
        if code < 0, let key = box.refusedKey {
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_SSH.rawValue), operation: "fetch \(Self.redacted(url))",
                           message: "the SSH host key of \(key.host):\(key.port) (\(key.algorithm ?? "key") \(key.fingerprint)) is not trusted; add it to the known hosts or pin its fingerprint")
        }
        if code < 0, box.attempts > 1 || (credentials == nil && box.attempts > 0) {
            // libgit2's own message here can be a stale, unrelated one; say what happened.
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_NET.rawValue), operation: "fetch \(Self.redacted(url))",
                           message: credentials == nil ? "the server asks for credentials and none are configured"
                                                       : "the server refused the credentials")
        }
        if code < 0, box.sawUnverifiedSSH {
            throw GitError(code: code, errorClass: Int32(GIT_ERROR_SSH.rawValue), operation: "fetch \(Self.redacted(url))",
                           message: "no trusted SSH host keys are configured, so the server cannot be verified; provide known hosts or a host key fingerprint")
        }
        try check(code, "fetch \(Self.redacted(url))")
    }

    /// The port of an ssh:// URL, 22 otherwise.
    static func sshPort(_ url: String) -> Int {
        guard url.hasPrefix("ssh://"), let c = URLComponents(string: url), let port = c.port else { return 22 }
        return port
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

    /// Every blob under `directory` ("" or "." for the root) at `commit`, read from the object
    /// database. A directory that does not exist yields no files.
    public func files(at commit: String, under directory: String = "") throws(GitError) -> [GitFile] {
        lock.lock()
        defer { lock.unlock() }
        let root = try tree(of: commit)
        let dir = Self.normalize(directory)
        var start = root
        if !dir.isEmpty {
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, root.pointer, dir)
            if code == GIT_ENOTFOUND.rawValue { return [] }
            try check(code, "find \(dir) at \(commit)")
            let e = GitTreeEntryHandle(entry!)
            guard git_tree_entry_type(e.pointer) == GIT_OBJECT_TREE else { return [] }
            var sub: OpaquePointer?
            try check(git_tree_lookup(&sub, pointer, git_tree_entry_id(e.pointer)), "read tree \(dir)")
            start = GitTreeHandle(sub!)
        }
        var found: [(path: String, oid: git_oid)] = []
        try collect(tree: start, prefix: dir.isEmpty ? "" : dir + "/", into: &found)
        var files: [GitFile] = []
        for item in found {
            var blob: OpaquePointer?
            var oid = item.oid
            try check(git_blob_lookup(&blob, pointer, &oid), "read \(item.path)")
            let b = GitBlobHandle(blob!)
            let size = Int(git_blob_rawsize(b.pointer))
            let bytes = size == 0 ? [] : Array(UnsafeRawBufferPointer(start: git_blob_rawcontent(b.pointer), count: size))
            files.append(GitFile(path: item.path, contents: bytes))
        }
        return files.sorted { $0.path < $1.path }
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

    private func collect(tree: GitTreeHandle, prefix: String, into found: inout [(path: String, oid: git_oid)]) throws(GitError) {
        let count = git_tree_entrycount(tree.pointer)
        for i in 0..<count {
            guard let entry = git_tree_entry_byindex(tree.pointer, i) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_BLOB:
                found.append((prefix + name, git_tree_entry_id(entry).pointee))
            case GIT_OBJECT_TREE:
                var sub: OpaquePointer?
                try check(git_tree_lookup(&sub, pointer, git_tree_entry_id(entry)), "read tree \(prefix + name)")
                try collect(tree: GitTreeHandle(sub!), prefix: prefix + name + "/", into: &found)
            default:
                continue  // submodules are not followed
            }
        }
    }

    private static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    /// A URL with any user:password part removed, for messages.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let slash = url[scheme.upperBound...].firstIndex(of: "/") ?? url.endIndex
        guard at < slash else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
    }
}

/// Answers libgit2's credential callback once per fetch, so a wrong secret fails instead of
/// looping, and its certificate callback for SSH host keys.
private final class CredentialBox {
    let credentials: GitCredentials?
    let verifyHostKey: SSHHostKeyVerifier?
    let port: Int
    var attempts = 0
    var refusedKey: SSHHostKey?
    var sawUnverifiedSSH = false

    init(_ credentials: GitCredentials?, verifyHostKey: SSHHostKeyVerifier?, port: Int) {
        self.credentials = credentials
        self.verifyHostKey = verifyHostKey
        self.port = port
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
