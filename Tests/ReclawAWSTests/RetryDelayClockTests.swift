import ReclawAWS
import ReclawTestSupport
import ReclawTime
import Synchronization
import Testing

/// The client's retry backoff on a manual clock, against the emulator: each retry sleeps on the
/// clock for less than its backoff ceiling (20 ms, then 40 ms), and no real time is waited for it.
@Suite struct RetryDelayClockTests {
    let emulator = Emulator.shared

    /// Set once the call under test has ended.
    final class Done: Sendable {
        private let flag = Mutex(false)
        func set() { flag.withLock { $0 = true } }
        var isSet: Bool { flag.withLock { $0 } }
    }

    @Test("a call failing twice with a server fault is retried after two sleeps on the clock, each within its backoff ceiling")
    func retriesSleepOnTheClock() async throws {
        let name = uniqueName("retry-clock")
        let agent = "deployment/\(name)"
        _ = try await emulator.injectError(userAgent: agent, operation: "DescribeSubnets", code: "InternalError", status: 500, count: 2)
        // The emulator's client: three attempts, a 20 ms backoff unit.
        let ec2 = EC2Client(client: emulator.client(maxAttempts: 3), region: "eu-west-3", context: AWSCallContext(deployment: name))
        let clock = ManualClock()
        let done = Done()
        var pauses: [Duration] = []
        try await Clocks.$current.withValue(clock) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try await ec2.subnets([])
                    done.set()
                }
                // Between attempts the call sleeps; the clock moves by the backoff's ceiling, which
                // must wake it. The clock stands still while a request is on the wire.
                var yields = 0
                while !done.isSet {
                    if clock.sleeping > 0 {
                        let ceiling = Duration.milliseconds(20) * (1 << pauses.count)
                        pauses.append(ceiling)
                        clock.advance(by: ceiling)
                        #expect(clock.sleeping == 0, "retry \(pauses.count) slept longer than its ceiling \(ceiling)")
                    } else {
                        yields += 1
                        try #require(yields < 200_000_000, "the call neither slept nor ended")
                        await Task.yield()
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(pauses == [.milliseconds(20), .milliseconds(40)])
        #expect(clock.now() == .milliseconds(60))
        #expect(try await emulator.requests(operation: "DescribeSubnets", userAgent: agent).count == 3)
    }
}
