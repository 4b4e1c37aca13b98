import Foundation
import Synchronization
import ReclawTime

/// A create that was started and not yet confirmed, kept so a crash in between is visible and the
/// retried create reuses its idempotency token.
public struct JournalEntry: Sendable, Codable, Hashable {
    public var deployment: String
    public var component: String
    /// The ClientToken sent with the create (RunInstances, CreateVpcEndpoint).
    public var clientToken: String
    public var planID: String
    public var startedAt: Date
}

/// The journal of in-flight creates in the state directory, one durable file per deployment. A
/// journal that cannot be read or written is an error: without it a crash could duplicate a resource.
public final class CreateJournal: Sendable {
    public let directory: String
    /// Told about every write, when replicas share state through a lease table.
    public let changes: StateChanges?
    private let lock = Mutex(())
    private let pending = JournalQueue()

    public init(stateDirectory: String, changes: StateChanges? = nil) {
        directory = stateDirectory + "/journal"
        self.changes = changes
    }

    func path(_ deployment: String) throws(StateError) -> String {
        guard DeploymentName.isValid(deployment) else {
            throw StateError(.invalidName, "refusing to use \(deployment.debugDescription) as a journal file name: it is not a deployment name")
        }
        return "\(directory)/\(deployment).json"
    }

    public func entries(_ deployment: String) throws(StateError) -> [JournalEntry] {
        try lock.withLock { _ throws(StateError) -> [JournalEntry] in try read(deployment) }
    }

    private func read(_ deployment: String) throws(StateError) -> [JournalEntry] {
        let path = try path(deployment)
        try PrivateFiles.checkNotLinked(directory)
        guard let bytes = try PrivateFiles.read(path) else { return [] }
        let data = Data(bytes)
        do {
            return try StateStore.decoder.decode([JournalEntry].self, from: data)
        } catch {
            throw .corrupt("\(path) is not a readable create journal: \(error)", path: path)
        }
    }

    /// Records a create about to be sent and returns its client token: the token of an interrupted
    /// create of the same component when there is one, so AWS recognises the retry.
    public func begin(deployment: String, component: String, planID: String, now: Date = Clocks.date()) throws(StateError) -> String {
        if let token = try commit(JournalChange(deployment: deployment, component: component, begin: (planID, now))) { return token }
        preconditionFailure("a create begun in the journal always has a token")
    }

    /// The create is confirmed (or abandoned): remove it.
    public func end(deployment: String, component: String) throws(StateError) {
        _ = try commit(JournalChange(deployment: deployment, component: component, begin: nil))
    }

    /// Makes a change durable. Changes asked for at the same time share one write per deployment
    /// (a group commit): whoever holds the journal applies every waiting change, and each caller
    /// returns once its own is durable, or throws when it could not be.
    private func commit(_ change: JournalChange) throws(StateError) -> String? {
        let ticket = pending.enqueue(change)
        return try lock.withLock { _ throws(StateError) -> String? in
            if let ended = pending.ended(ticket) { return try ended.get() }
            let changes = pending.takeWaiting()
            var results: [Int: Result<String?, StateError>] = [:]
            for deployment in Set(changes.map { $0.change.deployment }) {
                let mine = changes.filter { $0.change.deployment == deployment }
                do throws(StateError) {
                    var entries = try read(deployment)
                    var tokens: [Int: String] = [:]
                    var changed = false
                    for (t, c) in mine {
                        if let begun = c.begin {
                            if let open = entries.first(where: { $0.component == c.component }) {
                                tokens[t] = open.clientToken
                                continue
                            }
                            let token = UUID().uuidString.lowercased()
                            entries.append(JournalEntry(deployment: deployment, component: c.component, clientToken: token, planID: begun.planID, startedAt: begun.now))
                            tokens[t] = token
                        } else {
                            entries.removeAll { $0.component == c.component }
                        }
                        changed = true
                    }
                    if changed { try write(entries, deployment) }
                    for (t, _) in mine { results[t] = .success(tokens[t]) }
                } catch {
                    for (t, _) in mine { results[t] = .failure(error) }
                }
            }
            pending.end(results.filter { $0.key != ticket })
            return try results[ticket]!.get()
        }
    }

    private func write(_ entries: [JournalEntry], _ deployment: String) throws(StateError) {
        let path = try path(deployment)
        defer { changes?.mark(deployment, .journal) }
        if entries.isEmpty {
            try PrivateFiles.remove(path)
            DurableFile.syncDirectory(directory)
            return
        }
        let data: Data
        do { data = try StateStore.encoder.encode(entries) } catch { throw .io("cannot encode the journal of \(deployment): \(error)", path: path) }
        try DurableFile.write(data, to: path)
    }
}

/// A change to the journal: a create begun (with its plan and time) or ended.
struct JournalChange: Sendable {
    var deployment: String
    var component: String
    var begin: (planID: String, now: Date)?
}

/// Journal changes waiting for the journal, and how those made with another caller's ended.
final class JournalQueue: Sendable {
    private struct State {
        var next = 0
        var waiting: [(ticket: Int, change: JournalChange)] = []
        var ended: [Int: Result<String?, StateError>] = [:]
    }

    private let state = Mutex(State())

    func enqueue(_ change: JournalChange) -> Int {
        state.withLock { s in
            s.next += 1
            s.waiting.append((s.next, change))
            return s.next
        }
    }

    /// How the change of `ticket` ended when another caller made it; nil while it still waits.
    func ended(_ ticket: Int) -> Result<String?, StateError>? {
        state.withLock { $0.ended.removeValue(forKey: ticket) }
    }

    func takeWaiting() -> [(ticket: Int, change: JournalChange)] {
        state.withLock { s in
            defer { s.waiting = [] }
            return s.waiting
        }
    }

    func end(_ results: [Int: Result<String?, StateError>]) {
        state.withLock { s in s.ended.merge(results) { _, new in new } }
    }
}
