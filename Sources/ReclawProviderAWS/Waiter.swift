import Foundation
import ReclawAWS

/// Polls until a condition holds, with growing delays and a deadline, as AWS's waiters do.
public struct Waiter: Sendable {
    public var initialDelay: Duration
    public var maxDelay: Duration
    public var timeout: Duration

    public init(initialDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(15), timeout: Duration = .seconds(900)) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.timeout = timeout
    }

    /// Calls `check` until it returns true; throws a timeout naming `what`.
    public func wait(_ what: String, service: String, operation: String, region: String,
                     check: () async throws(AWSError) -> Bool) async throws(AWSError) {
        let deadline = ContinuousClock.now + timeout
        var delay = initialDelay
        while true {
            if try await check() { return }
            guard ContinuousClock.now + delay < deadline else {
                throw AWSError(kind: .service, code: "WaiterTimeout", message: "timed out after \(timeout) waiting for \(what)",
                               service: service, operation: operation, region: region)
            }
            do { try await Task.sleep(for: delay) } catch {
                throw AWSError(kind: .transport, code: "Cancelled", message: "cancelled while waiting for \(what)", service: service, operation: operation, region: region)
            }
            delay = min(maxDelay, delay * 1.5)
        }
    }

    /// Repeats `body` while it fails with one of `codes` (a dependency still going away, a role still
    /// propagating), until the deadline.
    public func retrying<T>(_ what: String, on codes: Set<String>, body: () async throws(AWSError) -> T) async throws(AWSError) -> T {
        let deadline = ContinuousClock.now + timeout
        var delay = initialDelay
        while true {
            do {
                return try await body()
            } catch {
                guard codes.contains(error.code) || codes.contains(where: { error.message.contains($0) }), ContinuousClock.now + delay < deadline else { throw error }
            }
            do { try await Task.sleep(for: delay) } catch {
                throw AWSError(kind: .transport, code: "Cancelled", message: "cancelled while retrying \(what)", service: "reclaw", operation: what)
            }
            delay = min(maxDelay, delay * 1.5)
        }
    }
}
