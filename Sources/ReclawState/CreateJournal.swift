import Foundation

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

/// The journal of in-flight creates in the state directory, one durable file per deployment.
public final class CreateJournal: Sendable {
    public let directory: String
    private let lock = NSLock()

    public init(stateDirectory: String) {
        directory = stateDirectory + "/journal"
    }

    func path(_ deployment: String) -> String { "\(directory)/\(deployment).json" }

    public func entries(_ deployment: String) -> [JournalEntry] {
        lock.withLock { read(deployment) }
    }

    private func read(_ deployment: String) -> [JournalEntry] {
        guard let data = FileManager.default.contents(atPath: path(deployment)) else { return [] }
        return (try? StateStore.decoder.decode([JournalEntry].self, from: data)) ?? []
    }

    /// Records a create about to be sent and returns its client token: the token of an interrupted
    /// create of the same component when there is one, so AWS recognises the retry.
    public func begin(deployment: String, component: String, planID: String) throws -> String {
        try lock.withLock {
            var entries = read(deployment)
            if let open = entries.first(where: { $0.component == component }) { return open.clientToken }
            let token = UUID().uuidString.lowercased()
            entries.append(JournalEntry(deployment: deployment, component: component, clientToken: token, planID: planID, startedAt: Date()))
            try DurableFile.write(try StateStore.encoder.encode(entries), to: path(deployment))
            return token
        }
    }

    /// The create is confirmed (or abandoned): remove it.
    public func end(deployment: String, component: String) throws {
        try lock.withLock {
            let entries = read(deployment).filter { $0.component != component }
            if entries.isEmpty {
                try? FileManager.default.removeItem(atPath: path(deployment))
                DurableFile.syncDirectory(directory)
            } else {
                try DurableFile.write(try StateStore.encoder.encode(entries), to: path(deployment))
            }
        }
    }
}
