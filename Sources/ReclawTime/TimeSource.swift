import Foundation

/// reclaw's one sense of time, injected so scheduling, leases, waits and deadlines can be driven
/// by hand in tests: a monotonic reading for deadlines and timers, the wall clock for what is
/// recorded. Nothing in reclaw reads the system's clocks or sleeps but through one of these.
public protocol TimeSource: Sendable {
    /// Monotonic time since an arbitrary origin.
    func now() -> Duration
    /// The wall-clock time, for status files, audit events, signatures and CloudTrail queries.
    func date() -> Date
    /// Sleeps until `deadline` (monotonic), or throws when cancelled.
    func sleep(until deadline: Duration) async throws
}

/// The real clock: the system's monotonic and wall clocks.
public struct SystemClock: TimeSource {
    /// The process's system clock.
    public static let shared = SystemClock()

    /// One origin for the whole process, so every system clock's readings compare with every other.
    private static let origin = ContinuousClock.now
    private var origin: ContinuousClock.Instant { Self.origin }

    public init() {}

    public func now() -> Duration { ContinuousClock.now - origin }
    public func date() -> Date { Date() }
    public func sleep(until deadline: Duration) async throws {
        try await Task.sleep(until: origin + deadline, clock: .continuous)
    }
}

/// The clock of the task at hand. `reclaw run` binds the daemon's clock here for every service it
/// starts (task-local values follow task groups and `async let`), and a test binds a
/// `ManualClock` the same way; code that has no clock of its own asks this one.
public enum Clocks {
    @TaskLocal public static var current: any TimeSource = SystemClock.shared

    /// Monotonic time on the current clock.
    public static func now() -> Duration { current.now() }
    /// Wall-clock time on the current clock.
    public static func date() -> Date { current.date() }
    /// Sleeps for `duration` on the current clock, or throws when cancelled.
    public static func sleep(for duration: Duration) async throws {
        let clock = current
        try await clock.sleep(until: clock.now() + duration)
    }
}
