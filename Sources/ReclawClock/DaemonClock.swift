import Foundation
import ReclawEngine
import Synchronization

/// The daemon's sense of time, injected so its scheduling can be driven by hand in tests: a
/// monotonic reading for deadlines and timers, the wall clock for what is recorded.
public protocol DaemonClock: Sendable {
    /// Monotonic time since an arbitrary origin.
    func now() -> Duration
    /// The wall-clock time, for status files, audit events and CloudTrail queries.
    func date() -> Date
    /// Sleeps until `deadline` (monotonic), or throws when cancelled.
    func sleep(until deadline: Duration) async throws
}

/// The real clock.
public struct SystemClock: DaemonClock {
    private let origin = ContinuousClock.now

    public init() {}

    public func now() -> Duration { ContinuousClock.now - origin }
    public func date() -> Date { Date() }
    public func sleep(until deadline: Duration) async throws {
        try await Task.sleep(until: origin + deadline, clock: .continuous)
    }
}

/// A clock that moves only when told to; sleepers wake when it passes their deadline, or when
/// their task is cancelled.
public final class ManualClock: DaemonClock, Sendable {
    struct Sleeper {
        var id: Int
        var deadline: Duration
        var continuation: CheckedContinuation<Void, Never>
    }

    struct State {
        var now: Duration = .zero
        var epoch: Date
        var nextID = 0
        var sleepers: [Sleeper] = []
    }

    private let state: Mutex<State>

    public init(date: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Mutex(State(epoch: date))
    }

    public func now() -> Duration { state.withLock { $0.now } }

    public func date() -> Date {
        state.withLock { s in s.epoch.addingTimeInterval(s.now.inSeconds) }
    }

    public func sleep(until deadline: Duration) async throws {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if deadline <= s.now || Task.isCancelled { return true }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume()
        }
        try Task.checkCancellation()
    }

    /// How many tasks are asleep on this clock.
    public var sleeping: Int { state.withLock { $0.sleepers.count } }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by step: Duration) {
        let woken = state.withLock { s -> [Sleeper] in
            s.now += step
            let due = s.sleepers.filter { $0.deadline <= s.now }
            s.sleepers.removeAll { $0.deadline <= s.now }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }
}
