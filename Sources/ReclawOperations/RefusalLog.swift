import Foundation
import Logging
import Synchronization

/// Logs refused requests without letting an attacker flood the log: each reason is logged the
/// first time, then at most once per `interval`, with how many were not logged in between.
final class RefusalLog: Sendable {
    let logger: Logger
    let interval: TimeInterval
    let now: @Sendable () -> Date
    private let last = Mutex<[String: (at: Date, suppressed: Int)]>([:])

    init(logger: Logger, interval: TimeInterval = 60, now: @escaping @Sendable () -> Date) {
        self.logger = logger
        self.interval = interval
        self.now = now
    }

    /// Logs `message` for `reason` unless the same reason was logged within the interval.
    func refused(_ reason: String, _ message: String, metadata: Logger.Metadata = [:]) {
        let at = now()
        let suppressed: Int? = last.withLock { seen in
            if let previous = seen[reason], at.timeIntervalSince(previous.at) < interval {
                seen[reason] = (previous.at, previous.suppressed + 1)
                return nil
            }
            let count = seen[reason]?.suppressed ?? 0
            seen[reason] = (at, 0)
            return count
        }
        guard let suppressed else { return }
        var metadata = metadata
        metadata["http.refusal"] = "\(reason)"
        if suppressed > 0 { metadata["http.refusals_not_logged"] = "\(suppressed)" }
        logger.warning("operations endpoint: \(message)", metadata: metadata)
    }
}
