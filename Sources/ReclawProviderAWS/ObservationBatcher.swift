import ReclawAWS
import ReclawTime

/// Shares one region-wide observation among the plans that ask for one within a short window, so
/// jobs started together (a rollout, a burst of events) read each region once instead of once
/// each. The first to ask waits `window`, then observes for everyone who asked meanwhile; an
/// observation therefore always starts after every request it answers, and never shows anyone AWS
/// as it was before they asked.
actor ObservationBatcher {
    struct Key: Hashable {
        var region: String
        var roleArn: String?
    }

    /// What the plans waiting on one observation asked for.
    struct Request: Sendable {
        /// The image references every waiting plan needs resolved.
        var imageAliases: Set<String>
        /// The deployments planned, so a batch of one names its deployment in every call.
        var deployments: Set<String>
    }

    private final class Pending {
        var request: Request
        var waiters: [CheckedContinuation<Result<Observation, AWSError>, Never>] = []
        init(_ request: Request) { self.request = request }
    }

    private var pending: [Key: Pending] = [:]
    private let sleep: @Sendable (Duration) async -> Void

    init(sleep: @escaping @Sendable (Duration) async -> Void = { try? await Clocks.sleep(for: $0) }) {
        self.sleep = sleep
    }

    /// How many observations ran, for tests and metrics.
    private(set) var observations = 0

    func observe(_ key: Key, _ request: Request, window: Duration,
                 run: @Sendable (Request) async throws(AWSError) -> Observation) async throws(AWSError) -> Observation {
        if let joined = pending[key] {
            joined.request.imageAliases.formUnion(request.imageAliases)
            joined.request.deployments.formUnion(request.deployments)
            return try await withCheckedContinuation { joined.waiters.append($0) }.get()
        }
        let batch = Pending(request)
        pending[key] = batch
        if window > .zero { await sleep(window) }
        pending[key] = nil
        observations += 1
        let result: Result<Observation, AWSError>
        do { result = .success(try await run(batch.request)) } catch { result = .failure(error) }
        for waiter in batch.waiters { waiter.resume(returning: result) }
        return try result.get()
    }
}
