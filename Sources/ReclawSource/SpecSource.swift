import Crypto
import Foundation
import ReclawEngine
import ReclawGit
import ReclawSignatures
import ReclawSpec
import ReclawState
import ReclawTime

/// Reads spec files from a source, at a ref and under a path, with the same rules for a
/// directory and a git commit; loads them with the operator's `SpecPolicy`.
public final class SpecSource: Sendable {
    public let location: SourceLocation
    public let ref: String
    public let path: String
    public let cacheDirectory: String
    public let credentials: GitCredentials?
    public let sshTrust: SSHTrust
    /// The loader every reader of this source uses (validate, plan, the daemon).
    public let loader: SpecLoader
    public let limits: SpecTreeLimits
    public let fetchLimits: GitFetchLimits
    /// The signatures a git revision must carry; nil to accept any.
    public let signatures: SignaturePolicy?

    public init(location: SourceLocation, ref: String = "main", path: String = ".", cacheDirectory: String,
                credentials: GitCredentials? = nil, sshTrust: SSHTrust = SSHTrust(), policy: SpecPolicy = SpecPolicy(),
                limits: SpecTreeLimits = SpecTreeLimits(), fetchLimits: GitFetchLimits = GitFetchLimits(),
                signatures: SignaturePolicy? = nil) {
        self.location = location
        self.ref = ref
        self.path = path
        self.cacheDirectory = cacheDirectory
        self.credentials = credentials
        self.sshTrust = sshTrust
        self.loader = SpecLoader(policy: policy)
        self.limits = limits
        self.fetchLimits = fetchLimits
        self.signatures = signatures
    }

    /// Loads a snapshot's specs: its files, and its unreadable entries as errors.
    public func load(_ snapshot: SourceSnapshot) -> SpecLoadResult {
        loader.load(snapshot.tree)
    }

    /// The bare cache repository for a git source.
    var cachePath: String {
        guard case .git(let url) = location else { return "" }
        let digest = SHA256.hash(data: Data(url.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16)
        return "\(cacheDirectory)/git/\(digest).git"
    }

    /// The cache repository, its directories created 0700 and never reached through a link.
    func openCache() throws -> GitRepository {
        try PrivateFiles.makeDirectory(cacheDirectory + "/git")
        try PrivateFiles.makeDirectory(cachePath)
        return try GitRepository.openOrCreateBare(at: cachePath)
    }

    /// Fetches (for git) and reads the current revision, on a thread of its own (libgit2 blocks).
    /// A git source answers by the fetch timeout (plus a moment): the fetch is stopped then, and
    /// should the thread still be stuck (in a DNS lookup, say), the caller stops waiting, and the
    /// next snapshot fails at once until that thread is gone, rather than piling threads up.
    /// With `--verify-history`, every commit since `verifiedSince` (the last verified revision)
    /// must verify too.
    public func snapshot(verifiedSince: String? = nil) async throws(SourceError) -> SourceSnapshot {
        guard case .git(let url) = location else {
            let result: Result<SourceSnapshot, SourceError> = await withCheckedContinuation { continuation in
                Thread.detachNewThread { [self] in
                    continuation.resume(returning: Result { () throws(SourceError) in try self.read() })
                }
            }
            return try result.get()
        }
        let key = cachePath
        try FetchesInFlight.shared.begin(key, url: GitRepository.redacted(url))
        let bound = fetchLimits.timeout + .seconds(2)
        let shown = GitRepository.redacted(url)
        let timeout = fetchLimits.timeout
        // Whichever comes first answers: the fetch, its deadline, or the caller giving up (a
        // shutdown); a fetch thread still stuck is left to end on its own deadline.
        let once = ResumeOnce<Result<SourceSnapshot, SourceError>>()
        let result = await withTaskGroup(of: Result<SourceSnapshot, SourceError>?.self) { group in
            group.addTask { [self] in
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        once.set(continuation)
                        Thread.detachNewThread { [self] in
                            let result = Result { () throws(SourceError) in try self.read(verifiedSince: verifiedSince) }
                            FetchesInFlight.shared.end(key)
                            once.resume(result)
                        }
                    }
                } onCancel: {
                    once.resume(.failure(SourceError("git source \(shown) (ref \(self.ref)): the fetch was abandoned (shutting down)", code: .unavailable)))
                }
            }
            group.addTask { [ref] in
                // The deadline, on the daemon's clock.
                guard (try? await Clocks.sleep(for: bound)) != nil else { return nil }
                once.resume(.failure(SourceError("git source \(shown) (ref \(ref)): fetch timed out after \(Int(timeout.inSeconds)) s; the fetch thread is still stuck and is left to end",
                                                 code: .timedOut)))
                return nil
            }
            var answer: Result<SourceSnapshot, SourceError>?
            for await result in group where answer == nil {
                if let result {
                    answer = result
                    group.cancelAll()
                }
            }
            return answer ?? .failure(SourceError("git source \(shown) (ref \(ref)): the fetch was abandoned (shutting down)", code: .unavailable))
        }
        return try result.get()
    }

    /// An earlier revision, from the cache (no fetch), read like any other.
    public func snapshot(at revision: String) throws(SourceError) -> SourceSnapshot {
        guard case .git = location else { throw SourceError("only git sources keep earlier revisions") }
        do {
            let repo = try openCache()
            return SourceSnapshot(revision: revision, tree: try GitSpecTree.read(repo, commit: revision, path: path, limits: limits))
        } catch let error as SpecTreeError {
            throw SourceError("cannot read revision \(revision): \(error)", code: .invalidTree)
        } catch {
            throw SourceError("cannot read revision \(revision): \(error)")
        }
    }

    /// An earlier revision from the cache whose commit verifies again under today's keys (a key
    /// removed since it was recorded no longer vouches for it), with its signer.
    public func verifiedSnapshot(at revision: String) throws(SourceError) -> SourceSnapshot {
        var snapshot = try snapshot(at: revision)
        guard let signatures else { return snapshot }
        let object: GitSignedObject
        do { object = try openCache().signedCommit(revision) } catch {
            throw SourceError("cannot read revision \(revision): \(error)")
        }
        switch signatures.verify(object) {
        case .success(let signer): snapshot.signer = signer
        case .failure(let refusal): throw SourceError(refusal)
        }
        return snapshot
    }

    func read(verifiedSince: String? = nil) throws(SourceError) -> SourceSnapshot {
        switch location {
        case .directory(let dir):
            let root = path == "." ? dir : dir + "/" + path
            let tree: SpecTree
            do { tree = try SpecTree.read(directory: root, limits: limits) } catch {
                throw SourceError("\(error)", code: error.code == .notFound ? .unavailable : .invalidTree)
            }
            var hasher = SHA256()
            for f in tree.files {
                hasher.update(data: Data(f.path.utf8))
                hasher.update(data: Data([0]))
                hasher.update(data: Data(f.bytes))
                hasher.update(data: Data([0]))
            }
            for (path, reason) in tree.unreadable.sorted(by: { $0.key < $1.key }) {
                hasher.update(data: Data(path.utf8))
                hasher.update(data: Data([1]))
                hasher.update(data: Data(reason.utf8))
                hasher.update(data: Data([0]))
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            return SourceSnapshot(revision: "dir:" + digest.prefix(12), tree: tree)
        case .git(let url):
            let context = "git source \(GitRepository.redacted(url)) (ref \(ref))"
            do {
                let repo = try openCache()
                try repo.fetch(from: url, credentials: credentials, verifyHostKey: sshTrust.isEmpty ? nil : sshTrust.verifier, limits: fetchLimits)
                let commit = try repo.resolve(ref)
                var snapshot = SourceSnapshot(revision: commit, tree: SpecTree())
                if let signatures {
                    let (signer, note) = try signatures.check(repo, ref: ref, tip: commit, since: verifiedSince)
                    snapshot.signer = signer
                    snapshot.verificationNote = note
                }
                snapshot.tree = try GitSpecTree.read(repo, commit: commit, path: path, limits: limits)
                return snapshot
            } catch let error as SignatureRefusal {
                throw SourceError(error)
            } catch let error as GitError {
                throw SourceError("\(context): \(error)", code: error.timedOut ? .timedOut : .unavailable)
            } catch let error as SpecTreeError {
                throw SourceError("\(context): \(error)", code: .invalidTree)
            } catch {
                throw SourceError("\(context): \(error)")
            }
        }
    }
}

/// The git fetches running in this process, by cache: never two into one cache at once.
final class FetchesInFlight: @unchecked Sendable {
    static let shared = FetchesInFlight()
    private let lock = NSLock()
    private var running: [String: (url: String, since: Duration)] = [:]

    func begin(_ key: String, url: String) throws(SourceError) {
        lock.lock()
        defer { lock.unlock() }
        if let other = running[key] {
            let seconds = Int((Clocks.now() - other.since).inSeconds)
            throw SourceError("git source \(url): a fetch started \(seconds) s ago is still running past its deadline; not starting another until it ends",
                              code: .busy)
        }
        running[key] = (url, Clocks.now())
    }

    func end(_ key: String) {
        lock.lock()
        running[key] = nil
        lock.unlock()
    }

    /// Whether a fetch into this cache is running.
    func isRunning(_ key: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return running[key] != nil
    }
}

/// Resumes a continuation once: by the work or by its deadline, whichever comes first.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    /// An answer that came before the continuation was set (a cancellation first).
    private var early: T?
    private var done = false

    init() {}

    func set(_ continuation: CheckedContinuation<T, Never>) {
        lock.lock()
        if let early {
            self.early = nil
            lock.unlock()
            continuation.resume(returning: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func resume(_ value: T) {
        lock.lock()
        guard !done else {
            lock.unlock()
            return
        }
        done = true
        guard let c = continuation else {
            early = value
            lock.unlock()
            return
        }
        continuation = nil
        lock.unlock()
        c.resume(returning: value)
    }
}

extension Duration {
    var timeInterval: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
