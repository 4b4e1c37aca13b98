import Foundation
import Synchronization

/// A clock that moves only when told to; sleepers wake when it passes their deadline, or when
/// their task is cancelled.
public final class ManualClock: TimeSource, Sendable {
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
        state.withLock { s in s.epoch.addingTimeInterval(Double(s.now.components.seconds) + Double(s.now.components.attoseconds) / 1e18) }
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
