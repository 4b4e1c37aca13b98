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
        try lock.withLock { _ throws(StateError) -> String in
            var entries = try read(deployment)
            if let open = entries.first(where: { $0.component == component }) { return open.clientToken }
            let token = UUID().uuidString.lowercased()
            entries.append(JournalEntry(deployment: deployment, component: component, clientToken: token, planID: planID, startedAt: now))
            try write(entries, deployment)
            return token
        }
    }

    /// The create is confirmed (or abandoned): remove it.
    public func end(deployment: String, component: String) throws(StateError) {
        try lock.withLock { _ throws(StateError) in
            let entries = try read(deployment).filter { $0.component != component }
            try write(entries, deployment)
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
