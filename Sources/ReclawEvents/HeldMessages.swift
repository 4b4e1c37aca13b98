import ReclawAWS
import Synchronization

/// A queue being read: its URL and visibility timeout (seconds).
struct QueueHandle: Sendable {
    var url: String
    var visibility: Int
}

/// What becomes of a message once looked at.
enum Disposal: Sendable {
    case delete(SQSMessage)
    /// Visible again at once, for the replica that holds its deployment.
    case handBack(SQSMessage)
}

/// Where handled messages go to be deleted or handed back, counting those not yet done, so
/// receiving waits for deletes instead of outpacing them.
struct Disposals: Sendable {
    let continuation: AsyncStream<Disposal>.Continuation
    let backlog = DisposalBacklog()

    func yield(_ item: Disposal) {
        backlog.add()
        continuation.yield(item)
    }
}

/// How many disposals are queued or under way.
final class DisposalBacklog: Sendable {
    private let pending = Mutex<Int>(0)

    func add() { pending.withLock { $0 += 1 } }
    func done() { pending.withLock { $0 -= 1 } }
    var count: Int { pending.withLock { $0 } }
}

/// Messages waiting for their drift checks: when each was received and last hidden again.
final class HeldMessages: Sendable {
    struct Entry {
        var message: SQSMessage
        var received: Duration
        var hiddenAt: Duration
    }

    private let entries = Mutex<[String: Entry]>([:])

    func hold(_ m: SQSMessage, now: Duration) {
        entries.withLock { $0[m.receiptHandle] = Entry(message: m, received: now, hiddenAt: now) }
    }

    func release(_ m: SQSMessage) {
        _ = entries.withLock { $0.removeValue(forKey: m.receiptHandle) }
    }

    /// Messages past half their visibility timeout, not held longer than `maxHold`; older ones are let go.
    func due(now: Duration, visibility: Duration, maxHold: Duration) -> [SQSMessage] {
        entries.withLock { e in
            e = e.filter { now - $0.value.received < maxHold }
            return e.values.filter { now - $0.hiddenAt >= visibility / 2 }.map(\.message)
        }
    }

    func extended(_ m: SQSMessage, now: Duration) {
        entries.withLock { $0[m.receiptHandle]?.hiddenAt = now }
    }

    var count: Int { entries.withLock { $0.count } }
}
