import Synchronization

/// The audit log's lines waiting for the file, so lines appended at the same time share one write
/// and one fsync (a group commit): whoever holds the file takes every waiting line, and records
/// how each ended for its caller, who finds it once it holds the file in turn.
final class LineBatch: Sendable {
    private struct State {
        var next = 0
        var waiting: [(ticket: Int, bytes: [UInt8])] = []
        /// Lines written with another caller's: nil when durable, else why they were not.
        var ended: [Int: AuditLogError?] = [:]
    }

    private let state = Mutex(State())

    /// Queues a line; returns its ticket.
    func enqueue(_ bytes: [UInt8]) -> Int {
        state.withLock { s in
            s.next += 1
            s.waiting.append((s.next, bytes))
            return s.next
        }
    }

    /// How the line of `ticket` ended when another caller wrote it (`.some(nil)`: durable); nil
    /// while it still waits.
    func ended(_ ticket: Int) -> AuditLogError?? {
        state.withLock { $0.ended.removeValue(forKey: ticket) }
    }

    /// Every waiting line, oldest first, taken to be written now.
    func takeWaiting() -> [(ticket: Int, bytes: [UInt8])] {
        state.withLock { s in
            defer { s.waiting = [] }
            return s.waiting
        }
    }

    /// Records how the lines of `tickets` ended, for their callers.
    func end(_ tickets: [Int], _ failure: AuditLogError?) {
        state.withLock { s in for ticket in tickets { s.ended[ticket] = .some(failure) } }
    }
}
