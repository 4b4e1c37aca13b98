import Foundation
import Synchronization
import ReclawTime

/// How calls are retried, as in the AWS SDKs' standard mode: a few attempts, exponential backoff
/// with full jitter, only for throttling, server faults and broken connections.
public struct RetryPolicy: Sendable {
    /// Total attempts per call, the first included.
    public var maxAttempts: Int
    /// The backoff unit: attempt n waits a random time in [0, base × 2^(n-1)), capped.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// When set, the client also waits out two of AWS's transients, each up to its deadline and
    /// without spending attempts or retry quota: a NotFound about an EC2 id that a create returned
    /// moments ago (`eventualConsistency`), and throttling (`throttling`, paced by the adaptive rate
    /// limiter). Nil keeps the SDKs' standard mode: `maxAttempts` for everything.
    public var deadlines: TransientDeadlines?

    public init(maxAttempts: Int = 3, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(20), deadlines: TransientDeadlines? = nil) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.deadlines = deadlines
    }

    /// The standard policy, with AWS_MAX_ATTEMPTS honoured, waiting out transients up to `deadlines`.
    public static func standard(environment: AWSEnvironment, deadlines: TransientDeadlines? = TransientDeadlines()) -> RetryPolicy {
        RetryPolicy(maxAttempts: environment["AWS_MAX_ATTEMPTS"].flatMap(Int.init) ?? 3, deadlines: deadlines)
    }

    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]

    public static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "InternalServerError", "InternalServiceError",
    ]

    /// Whether an error deserves another attempt. Client errors (access, validation) never do.
    public static func isRetryable(_ error: AWSError) -> Bool {
        switch error.kind {
        case .transport: return true
        case .credentials, .decoding, .retryQuotaExhausted, .unlisted, .refused: return false
        case .service:
            if throttlingCodes.contains(error.code) || transientCodes.contains(error.code) { return true }
            if let status = error.httpStatus, [500, 502, 503, 504].contains(status) { return true }
            return false
        }
    }

    /// Full-jitter backoff before attempt `attempt + 1`.
    public func delay(after attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * Int(1 << min(attempt - 1, 20)))
        return ceiling * Double.random(in: 0..<1)
    }
}

/// The SDKs' retry quota: every retry spends tokens (more for timeouts), successes earn them back,
/// and when the bucket is empty no call is retried. One per service and region.
final class RetryQuota: Sendable {
    static let capacity = 500
    static let retryCost = 5
    static let timeoutCost = 10

    private let tokens = Mutex(RetryQuota.capacity)

    /// Takes the cost of a retry; false when the quota cannot pay for it.
    func acquire(for error: AWSError) -> Int? {
        let cost = error.kind == .transport && error.code == "RequestTimeout" ? Self.timeoutCost : Self.retryCost
        return tokens.withLock { available in
            guard available >= cost else { return nil }
            available -= cost
            return cost
        }
    }

    /// A call succeeded: give back what its retries cost, or one token for a first-try success.
    func release(_ spent: Int) {
        tokens.withLock { $0 = min(Self.capacity, $0 + max(spent, 1)) }
    }

    var available: Int { tokens.withLock { $0 } }
}

/// A client-side token bucket per service and region, shared by every concurrent caller. It slows
/// down when AWS throttles (multiplicative decrease) and speeds up again on success (additive
/// increase), so reclaw does not add load to an account that is already being throttled.
final class RateLimiter: Sendable {
    struct State {
        var tokens: Double
        var rate: Double
        var last: Duration
    }

    let maxRate: Double
    let minRate: Double
    /// The bucket's size: how many calls may go at once after a quiet spell.
    let burst: Double
    private let state: Mutex<State>

    init(maxRate: Double = 100, minRate: Double = 0.5, burst: Double = 200) {
        self.maxRate = maxRate
        self.minRate = minRate
        self.burst = burst
        state = Mutex(State(tokens: burst, rate: maxRate, last: Clocks.now()))
    }

    /// Waits until a request may be sent.
    func acquire() async throws {
        while true {
            let wait: Duration? = state.withLock { s in
                let now = Clocks.now()
                let elapsed = now - s.last
                s.tokens = min(burst, s.tokens + s.rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
                s.last = now
                if s.tokens >= 1 {
                    s.tokens -= 1
                    return nil
                }
                return .milliseconds(Int(((1 - s.tokens) / s.rate) * 1000) + 1)
            }
            guard let wait else { return }
            try await Clocks.sleep(for: wait)
        }
    }

    func throttled() {
        state.withLock { s in
            s.rate = max(minRate, s.rate * 0.5)
            s.tokens = min(s.tokens, s.rate)
        }
    }

    func succeeded() {
        state.withLock { s in s.rate = min(maxRate, s.rate + 0.5) }
    }

    var currentRate: Double { state.withLock { $0.rate } }
}
