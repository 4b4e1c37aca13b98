@testable import ReclawAWS
import ReclawTestSupport
import ReclawTime
import Synchronization
import Testing

/// The adaptive rate limiter on a manual clock: a caller past the burst waits exactly until its
/// token is due, and after throttling the tokens come more slowly, with no real time passing.
@Suite struct RateLimiterClockTests {
    /// Set once a child task is done.
    final class Done: Sendable {
        private let flag = Mutex(false)
        func set() { flag.withLock { $0 = true } }
        var isSet: Bool { flag.withLock { $0 } }
    }

    /// Acquires a token in a child task, moving the clock on by `step` whenever the caller sleeps,
    /// and returns how far the clock had to move.
    static func timedAcquire(_ limiter: RateLimiter, on clock: ManualClock, advancing step: Duration) async throws -> Duration {
        let start = clock.now()
        let done = Done()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await limiter.acquire()
                done.set()
            }
            var yields = 0
            while !done.isSet {
                if clock.sleeping > 0 {
                    clock.advance(by: step)
                } else {
                    yields += 1
                    try #require(yields < 1_000_000, "the caller neither slept nor finished")
                    await Task.yield()
                }
            }
            try await group.waitForAll()
        }
        return clock.now() - start
    }

    @Test("calls within the burst go at once, and the next waits exactly until a token is due")
    func waitsUntilATokenIsDue() async throws {
        let clock = ManualClock()
        try await Clocks.$current.withValue(clock) {
            let limiter = RateLimiter(maxRate: 10, burst: 2)
            try await limiter.acquire()
            try await limiter.acquire()
            #expect(clock.now() == .zero)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await limiter.acquire() }
                try await clock.untilAsleep()
                // At 10 a second a token is due 100 ms after the bucket emptied (plus the millisecond
                // the limiter rounds up).
                clock.advance(by: .milliseconds(100))
                #expect(clock.sleeping == 1, "the caller went before its token was due")
                clock.advance(by: .milliseconds(1))
                try await group.waitForAll()
            }
            #expect(clock.now() == .milliseconds(101))
            #expect(clock.sleeping == 0)
        }
    }

    /// How long, on a clock of its own, a caller waits for a token once a limiter of `rate`
    /// tokens a second has spent its one token (and been throttled `throttles` times).
    static func waitForSecondToken(rate: Double, throttles: Int) async throws -> Duration {
        let clock = ManualClock()
        return try await Clocks.$current.withValue(clock) {
            let limiter = RateLimiter(maxRate: rate, burst: 1)
            try await limiter.acquire()
            for _ in 0..<throttles { limiter.throttled() }
            return try await timedAcquire(limiter, on: clock, advancing: .milliseconds(1))
        }
    }

    @Test("after throttling the limiter halves its rate, so a caller waits twice as long for its token")
    func throttlingSlowsItDown() async throws {
        #expect(try await Self.waitForSecondToken(rate: 10, throttles: 0) == .milliseconds(101))
        #expect(try await Self.waitForSecondToken(rate: 10, throttles: 1) == .milliseconds(201))
        #expect(try await Self.waitForSecondToken(rate: 10, throttles: 2) == .milliseconds(401))
    }

    @Test("throttling never slows the limiter below its floor, and successes bring the rate back up")
    func floorAndRecovery() {
        let limiter = Clocks.$current.withValue(ManualClock()) { RateLimiter(maxRate: 4, minRate: 0.5, burst: 4) }
        for _ in 0..<10 { limiter.throttled() }
        #expect(limiter.currentRate == 0.5)
        limiter.succeeded()
        #expect(limiter.currentRate == 1)
        for _ in 0..<20 { limiter.succeeded() }
        #expect(limiter.currentRate == 4)
    }

    @Test("a caller cancelled while it waits for a token stops waiting at once")
    func cancelledCaller() async throws {
        let clock = ManualClock()
        try await Clocks.$current.withValue(clock) {
            let limiter = RateLimiter(maxRate: 1, burst: 1)
            try await limiter.acquire()
            let cancelled = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do { try await limiter.acquire(); return false } catch { return error is CancellationError }
                }
                try? await clock.untilAsleep()
                group.cancelAll()
                return await group.next() ?? false
            }
            #expect(cancelled)
            #expect(clock.now() == .zero)
        }
    }
}
