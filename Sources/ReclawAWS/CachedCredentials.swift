import Foundation

/// Caches temporary credentials and refreshes them five minutes before they expire; concurrent
/// callers share one refresh.
public actor CachedCredentialProvider: CredentialProvider {
    nonisolated public let name: String
    private let fetch: @Sendable () async throws(AWSError) -> AWSCredentials
    private let margin: TimeInterval
    private var cached: AWSCredentials?
    private var waiters: [CheckedContinuation<Result<AWSCredentials, AWSError>, Never>]?

    public init(name: String, refreshMargin: TimeInterval = 300, fetch: @escaping @Sendable () async throws(AWSError) -> AWSCredentials) {
        self.name = name
        self.fetch = fetch
        self.margin = refreshMargin
    }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        if let cached, !cached.expires(within: margin) { return cached }
        if waiters != nil {
            let result = await withCheckedContinuation { waiters!.append($0) }
            return try result.get()
        }
        waiters = []
        let result: Result<AWSCredentials, AWSError>
        do { result = .success(try await fetch()) } catch { result = .failure(error) }
        if case .success(let c) = result { cached = c }
        let pending = waiters ?? []
        waiters = nil
        for w in pending { w.resume(returning: result) }
        return try result.get()
    }
}
