import ReclawTime

/// A test waits for the code under test to fall asleep on a manual clock before advancing it,
/// so time moves only when the code is waiting for it.
extension ManualClock {
    /// The expected sleepers never came (the code's schedule is not the one the test expected).
    public struct NeverAsleep: Error, CustomStringConvertible {
        public let expected: Int
        public let sleeping: Int
        public var description: String { "expected \(expected) task(s) asleep on the clock, found \(sleeping)" }
    }

    /// Yields until at least `count` tasks sleep on this clock. Throws after a million yields
    /// rather than hang when they never do; no real time is waited for.
    public func untilAsleep(_ count: Int = 1) async throws {
        for _ in 0..<1_000_000 {
            if sleeping >= count { return }
            await Task.yield()
        }
        throw NeverAsleep(expected: count, sleeping: sleeping)
    }
}

extension ManualClock {
    /// The condition never held.
    public struct NeverTrue: Error {}

    /// Yields, without moving the clock, until `condition` holds (work the test started, such as
    /// real I/O, has finished); throws after `yields` yields rather than hang.
    public func until(yields: Int = 1_000_000, _ condition: () -> Bool) async throws {
        for _ in 0..<yields {
            if condition() { return }
            await Task.yield()
        }
        throw NeverTrue()
    }
}
