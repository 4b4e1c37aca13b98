import Foundation

/// Which alerts went out recently, so the same one is not sent twice within a window. Entries
/// older than the window are forgotten, so the memory stays bounded however long the daemon runs.
package struct AlertMemory: Sendable {
    let window: Duration
    private var sent: [String: Duration] = [:]

    package init(window: Duration) {
        self.window = window
    }

    /// Whether an alert under `key` may go out now; if so, it is remembered.
    package mutating func shouldSend(_ key: String, now: Duration) -> Bool {
        sent = sent.filter { now - $0.value < window }
        guard sent[key] == nil else { return false }
        sent[key] = now
        return true
    }

    /// Forgets every key of a deployment (it left the repository).
    package mutating func forget(deployment: String) {
        sent = sent.filter { !$0.key.split(separator: "/").dropFirst().prefix(1).contains(Substring(deployment)) }
    }

    var count: Int { sent.count }
}
