import Foundation
import ReclawAWS
import ReclawTime

/// Polls until a condition holds, or repeats a call while AWS answers with a transient error, with
/// growing delays up to a deadline, as AWS's waiters do. Each wait is told to `observer` when it
/// begins and ends (and while it goes on), so the deployment's status says what it waits for.
public struct Waiter: Sendable {
    public var initialDelay: Duration
    public var maxDelay: Duration
    /// How long each transient is waited out.
    public var deadlines: TransientDeadlines
    /// The deadline of a wait that `deadlines` does not name.
    public var timeout: Duration
    /// Told about every wait (the deployment's Reconciling condition and log).
    public var observer: (any WaitObserver)?

    public init(initialDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(15), deadlines: TransientDeadlines = TransientDeadlines(),
                timeout: Duration = .seconds(600)) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.deadlines = deadlines
        self.timeout = timeout
    }

    /// Every deadline `timeout`.
    public init(initialDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(15), timeout: Duration) {
        self.init(initialDelay: initialDelay, maxDelay: maxDelay, deadlines: .all(timeout), timeout: timeout)
    }

    /// The same waiter, telling `observer` about its waits.
    public func reporting(to observer: (any WaitObserver)?) -> Waiter {
        var w = self
        w.observer = observer
        return w
    }

    /// Calls `check` until it returns true; past `deadline` (default `timeout`) throws WaiterTimeout
    /// naming `what` (phrased to follow "waiting for": `endpoint vpce-1 to become available`).
    public func wait(_ what: String, deadline: Duration? = nil, service: String, operation: String, region: String,
                     check: () async throws(AWSError) -> Bool) async throws(AWSError) {
        let limit = deadline ?? timeout
        let end = Clocks.now() + limit
        var delay = initialDelay
        var progress = WaitProgress(observer: observer)
        while true {
            let done: Bool
            do { done = try await check() } catch {
                await progress.end(.failed(code: error.code))
                throw error
            }
            if done {
                await progress.end(.done)
                return
            }
            await progress.note(what, deadline: limit)
            guard Clocks.now() + delay < end else {
                await progress.end(.gaveUp(code: "WaiterTimeout"))
                throw AWSError(kind: .service, code: "WaiterTimeout", message: "gave up after \(limit.spokenDuration) waiting for \(what)",
                               service: service, operation: operation, region: region)
            }
            try await sleep(delay, what, progress: &progress)
            delay = min(maxDelay, delay * 1.5)
        }
    }

    /// Repeats `body` while it fails with one of AWS's error `codes`, until the deadline; then the
    /// last error is thrown, saying how long it was waited out.
    public func retrying<T>(_ what: String, on codes: Set<String>, deadline: Duration? = nil,
                            body: () async throws(AWSError) -> T) async throws(AWSError) -> T {
        try await retrying(what, deadline: deadline, while: { error in
            codes.contains(error.code)
        }, body: body)
    }

    /// Repeats `body` while `transient` says its error is one to wait out, until the deadline.
    public func retrying<T>(_ what: String, deadline: Duration? = nil, while transient: (AWSError) async throws(AWSError) -> Bool,
                            body: () async throws(AWSError) -> T) async throws(AWSError) -> T {
        let limit = deadline ?? timeout
        let end = Clocks.now() + limit
        var delay = initialDelay
        var progress = WaitProgress(observer: observer)
        while true {
            do {
                let value = try await body()
                await progress.end(.done)
                return value
            } catch {
                var isTransient = false
                do { isTransient = try await transient(error) } catch {
                    await progress.end(.failed(code: error.code))
                    throw error
                }
                guard isTransient else {
                    await progress.end(.failed(code: error.code))
                    throw error
                }
                guard Clocks.now() + delay < end else {
                    await progress.end(.gaveUp(code: error.code))
                    throw error.noting("(still refused after \(limit.spokenDuration) of waiting for \(what))")
                }
                await progress.note(what, deadline: limit)
            }
            try await sleep(delay, what, progress: &progress)
            delay = min(maxDelay, delay * 1.5)
        }
    }

    private func sleep(_ delay: Duration, _ what: String, progress: inout WaitProgress) async throws(AWSError) {
        do { try await Clocks.sleep(for: delay) } catch {
            let cancelled = AWSError.cancelled(service: "reclaw", operation: "wait", waitingFor: what)
            await progress.end(.failed(code: cancelled.code))
            throw cancelled
        }
    }
}
