import ReclawAWS
import ReclawProviderAWS
import ReclawTestSupport
import ReclawTime
import Synchronization
import Testing

/// ReclawTime's clock (this target has a `ManualClock` of its own, for the reconciler's dates).
typealias SteppedClock = ReclawTime.ManualClock

/// The waiter on a manual clock: each poll happens when the clock says it is due, a wait gives up
/// at its limit, and cancellation ends it, with no real time passing.
@Suite struct WaiterClockTests {
    /// How many times a fake check was called.
    final class Polls: Sendable {
        private let count = Mutex(0)
        func next() -> Int { count.withLock { $0 += 1; return $0 } }
        var made: Int { count.withLock { $0 } }
    }

    let waiter = Waiter(initialDelay: .seconds(1), maxDelay: .seconds(4), timeout: .seconds(60))

    @Test("a resource ready on the fourth poll is waited out after exactly the three delays between polls")
    func readyAfterPolls() async throws {
        let clock = SteppedClock()
        let polls = Polls()
        try await Clocks.$current.withValue(clock) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await waiter.wait("instance i-1 to become running", service: "ec2", operation: "DescribeInstances", region: "us-east-1") {
                        polls.next() == 4
                    }
                }
                for (done, delay) in [(1, Duration.seconds(1)), (2, .milliseconds(1500)), (3, .milliseconds(2250))] {
                    try await clock.untilAsleep()
                    #expect(polls.made == done)
                    clock.advance(by: delay - .milliseconds(1))
                    #expect(clock.sleeping == 1, "woke before its delay was over")
                    clock.advance(by: .milliseconds(1))
                }
                try await group.waitForAll()
            }
        }
        #expect(polls.made == 4)
        #expect(clock.now() == .milliseconds(4750))
    }

    @Test("a wait that never succeeds gives up with WaiterTimeout before a delay would take it past its limit")
    func givesUpAtItsLimit() async throws {
        let clock = SteppedClock()
        let polls = Polls()
        let short = Waiter(initialDelay: .seconds(1), maxDelay: .seconds(4), timeout: .seconds(5))
        let outcome: AWSError? = try await Clocks.$current.withValue(clock) {
            try await withThrowingTaskGroup(of: AWSError?.self) { group in
                group.addTask {
                    do throws(AWSError) {
                        try await short.wait("endpoint vpce-1 to become available", service: "ec2", operation: "DescribeVpcEndpoints",
                                             region: "us-east-1") { _ = polls.next(); return false }
                        return nil
                    } catch { return error }
                }
                // Polls at 0, 1, 2.5 and 4.75 s; the next delay (3.375 s) would end past 5 s.
                for delay in [Duration.seconds(1), .milliseconds(1500), .milliseconds(2250)] {
                    try await clock.untilAsleep()
                    clock.advance(by: delay)
                }
                return try await group.next() ?? nil
            }
        }
        let error = try #require(outcome)
        #expect(error.code == "WaiterTimeout")
        #expect(error.message.contains("waiting for endpoint vpce-1 to become available"), "\(error.message)")
        #expect(polls.made == 4)
        #expect(clock.now() == .milliseconds(4750))
        #expect(clock.sleeping == 0)
    }

    @Test("a cancelled wait ends at once with a cancellation error, without the clock moving")
    func cancellation() async throws {
        let clock = SteppedClock()
        let outcome: AWSError? = try await Clocks.$current.withValue(clock) {
            try await withThrowingTaskGroup(of: AWSError?.self) { group in
                group.addTask {
                    do throws(AWSError) {
                        try await waiter.wait("stack s-1 to settle", service: "cloudformation", operation: "DescribeStacks", region: "us-east-1") { false }
                        return nil
                    } catch { return error }
                }
                try await clock.untilAsleep()
                group.cancelAll()
                return try await group.next() ?? nil
            }
        }
        let error = try #require(outcome)
        #expect(error.isCancelled, "\(error)")
        #expect(clock.now() == .zero)
        #expect(clock.sleeping == 0)
    }

    @Test("a call refused with a transient error is repeated after each delay until it succeeds")
    func retryingUntilSuccess() async throws {
        let clock = SteppedClock()
        let polls = Polls()
        let value = try await Clocks.$current.withValue(clock) {
            try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    try await waiter.retrying("role r-1 to propagate", on: ["InvalidParameterValue"]) { () throws(AWSError) -> String in
                        guard polls.next() == 3 else {
                            throw AWSError(kind: .service, code: "InvalidParameterValue", message: "role not found", service: "ec2",
                                           operation: "RunInstances", region: "us-east-1")
                        }
                        return "i-1"
                    }
                }
                for delay in [Duration.seconds(1), .milliseconds(1500)] {
                    try await clock.untilAsleep()
                    clock.advance(by: delay)
                }
                return try await group.next()
            }
        }
        #expect(value == "i-1")
        #expect(polls.made == 3)
        #expect(clock.now() == .milliseconds(2500))
    }
}
