import Crypto
import Foundation
import ReclawGit
import ReclawSpec

/// Where specs come from: a local directory, or a git repository fetched into a bare cache and read
/// at a commit without a working tree.
public enum SourceLocation: Sendable, Equatable, CustomStringConvertible {
    case directory(String)
    case git(url: String)

    /// A URL with a scheme is a git remote; anything else is a local directory.
    public init(_ text: String) {
        if text.contains("://") { self = .git(url: text) } else { self = .directory(text) }
    }

    public var description: String {
        switch self {
        case .directory(let p): return p
        case .git(let url): return GitRepository.redacted(url)
        }
    }
}

/// The spec files of one revision.
public struct SourceSnapshot: Sendable {
    public var revision: String
    public var files: [SpecFile]
}

/// A failure to read the source (unreachable remote, unknown ref, missing directory).
public struct SourceError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads spec files from a source, at a ref and under a path.
public final class SpecSource: Sendable {
    public let location: SourceLocation
    public let ref: String
    public let path: String
    public let cacheDirectory: String
    public let credentials: GitCredentials?
    public let sshTrust: SSHTrust

    public init(location: SourceLocation, ref: String = "main", path: String = ".", cacheDirectory: String,
                credentials: GitCredentials? = nil, sshTrust: SSHTrust = SSHTrust()) {
        self.location = location
        self.ref = ref
        self.path = path
        self.cacheDirectory = cacheDirectory
        self.credentials = credentials
        self.sshTrust = sshTrust
    }

    /// The bare cache repository for a git source.
    var cachePath: String {
        guard case .git(let url) = location else { return "" }
        let digest = SHA256.hash(data: Data(url.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16)
        return "\(cacheDirectory)/git/\(digest).git"
    }

    /// Fetches (for git) and reads the current revision. Runs on a thread of its own: libgit2 blocks.
    public func snapshot() async throws(SourceError) -> SourceSnapshot {
        let result: Result<SourceSnapshot, SourceError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in
                continuation.resume(returning: Result { () throws(SourceError) in try self.read() })
            }
        }
        return try result.get()
    }

    /// The files of an earlier revision, from the cache (no fetch).
    public func files(at revision: String) throws(SourceError) -> [SpecFile] {
        guard case .git = location else { throw SourceError("only git sources keep earlier revisions") }
        do {
            let repo = try GitRepository.openOrCreateBare(at: cachePath)
            return try repo.files(at: revision, under: path).filter { SpecLoader.isSpecPath($0.path) }.map { SpecFile(path: $0.path, bytes: $0.contents) }
        } catch {
            throw SourceError("cannot read revision \(revision): \(error)")
        }
    }

    func read() throws(SourceError) -> SourceSnapshot {
        switch location {
        case .directory(let dir):
            let root = path == "." ? dir : dir + "/" + path
            let files: [SpecFile]
            do { files = try SpecLoader.files(at: root) } catch { throw SourceError("\(error)") }
            var hasher = SHA256()
            for f in files.sorted(by: { $0.path < $1.path }) {
                hasher.update(data: Data(f.path.utf8))
                hasher.update(data: Data([0]))
                hasher.update(data: Data(f.bytes))
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            return SourceSnapshot(revision: "dir:" + digest.prefix(12), files: files)
        case .git(let url):
            do {
                let repo = try GitRepository.openOrCreateBare(at: cachePath)
                try repo.fetch(from: url, credentials: credentials, verifyHostKey: sshTrust.isEmpty ? nil : sshTrust.verifier)
                let commit = try repo.resolve(ref)
                let files = try repo.files(at: commit, under: path).filter { SpecLoader.isSpecPath($0.path) }
                return SourceSnapshot(revision: commit, files: files.map { SpecFile(path: $0.path, bytes: $0.contents) })
            } catch {
                throw SourceError("git source \(GitRepository.redacted(url)) (ref \(ref)): \(error)")
            }
        }
    }
}

/// Git credentials from the environment, never logged: a token for HTTP(S)
/// (`RECLAW_GIT_TOKEN`, with `RECLAW_GIT_USERNAME`, or a git-credentials file in
/// `RECLAW_GIT_CREDENTIALS_FILE`) and a key file for SSH (`RECLAW_GIT_SSH_KEY`); the SSH
/// server itself is checked against `SSHTrust`.
public enum GitCredentialSettings {
    public static func credentials(for url: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> GitCredentials? {
        if url.hasPrefix("ssh://") || (url.contains("@") && !url.contains("://")) {
            guard let key = environment["RECLAW_GIT_SSH_KEY"], !key.isEmpty else { return nil }
            return .sshKey(username: environment["RECLAW_GIT_SSH_USER"] ?? "git", privateKeyPath: key,
                           publicKeyPath: environment["RECLAW_GIT_SSH_PUBLIC_KEY"], passphrase: environment["RECLAW_GIT_SSH_PASSPHRASE"])
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { return nil }
        if let token = environment["RECLAW_GIT_TOKEN"], !token.isEmpty {
            return .token(username: environment["RECLAW_GIT_USERNAME"] ?? "x-access-token", token: token)
        }
        if let file = environment["RECLAW_GIT_CREDENTIALS_FILE"], let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let host = url.split(separator: "/").dropFirst(2).first.map(String.init) ?? ""
            for line in text.split(whereSeparator: \.isNewline) {
                guard let entry = URLComponents(string: String(line)), entry.host == host.split(separator: ":").first.map(String.init),
                      let user = entry.user, let password = entry.password else { continue }
                return .token(username: user.removingPercentEncoding ?? user, token: password.removingPercentEncoding ?? password)
            }
        }
        return nil
    }
}
