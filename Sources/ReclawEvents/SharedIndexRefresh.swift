import ReclawTime
import Synchronization

/// When the listener reads the other replicas' statuses again (a whole-table read of the lease
/// table, each status tens of kilobytes): once at start, then only when an event names a resource
/// nothing maps, at most once per `interval`. A steady fleet whose events all map costs no read;
/// a burst of strangers' events costs at most one read per interval.
public struct SharedIndexRefresh: Sendable {
    public let interval: Duration
    private(set) var last: Duration?

    public init(interval: Duration) { self.interval = interval }

    /// Whether a read is due at `now` for an unmapped event; if so, it counts as started.
    public mutating func begin(now: Duration) -> Bool {
        if let last, now - last < interval { return false }
        last = now
        return true
    }
}

/// One `SharedIndexRefresh` shared by the listener's concurrent handlers: at most one read runs.
final class SharedIndexGate: Sendable {
    private let state: Mutex<SharedIndexRefresh>

    init(interval: Duration) { state = Mutex(SharedIndexRefresh(interval: interval)) }

    func begin(now: Duration) -> Bool { state.withLock { $0.begin(now: now) } }
}
