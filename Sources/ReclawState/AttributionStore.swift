import Foundation
import ReclawEngine

/// A drift whose author CloudTrail has not delivered yet. Kept in the state directory, so a restart
/// loses none; looked up again on CloudTrail's delivery schedule until found or given up.
public struct PendingAttribution: Sendable, Codable, Hashable {
    /// The id of the drift event this attribution completes.
    public var id: String
    public var deployment: String
    public var region: String
    public var revision: String?
    public var planID: String?
    public var items: [DriftItem]
    /// When AWS was last known to match: where the search for who changed it starts.
    public var since: Date
    public var foundAt: Date
    /// Lookups made so far.
    public var attempts: Int
    public var nextAttemptAt: Date
    /// Whether reclaw corrected the drift (it is attributed either way).
    public var corrected: Bool

    public init(id: String, deployment: String, region: String, revision: String?, planID: String?, items: [DriftItem], since: Date,
                foundAt: Date, attempts: Int = 0, nextAttemptAt: Date, corrected: Bool) {
        self.id = id
        self.deployment = deployment
        self.region = region
        self.revision = revision
        self.planID = planID
        self.items = items
        self.since = since
        self.foundAt = foundAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.corrected = corrected
    }
}

/// Pending attributions, one durable file per deployment under `attributions/`.
public struct AttributionStore: Sendable {
    public let directory: String
    /// Told about every write, when replicas share state through a lease table.
    public let changes: StateChanges?

    public init(stateDirectory: String, changes: StateChanges? = nil) {
        directory = stateDirectory + "/attributions"
        self.changes = changes
    }

    func path(_ deployment: String) throws(StateError) -> String {
        guard DeploymentName.isValid(deployment) else {
            throw StateError(.invalidName, "refusing to use \(deployment.debugDescription) as a file name: it is not a deployment name")
        }
        return "\(directory)/\(deployment).json"
    }

    public func load(_ deployment: String) throws(StateError) -> [PendingAttribution] {
        let path = try path(deployment)
        try PrivateFiles.checkNotLinked(directory)
        guard let bytes = try PrivateFiles.read(path) else { return [] }
        let data = Data(bytes)
        do {
            return try StateStore.decoder.decode([PendingAttribution].self, from: data)
        } catch {
            throw .corrupt("\(path) is not a readable list of pending attributions: \(error)", path: path)
        }
    }

    public func save(_ deployment: String, _ items: [PendingAttribution]) throws(StateError) {
        let path = try path(deployment)
        defer { changes?.mark(deployment, .attributions) }
        if items.isEmpty {
            try PrivateFiles.remove(path)
            DurableFile.syncDirectory(directory)
            return
        }
        let data: Data
        do { data = try StateStore.encoder.encode(items) } catch { throw .io("cannot encode the attributions of \(deployment): \(error)", path: path) }
        try DurableFile.write(data, to: path)
    }

    /// The deployments with pending attributions.
    public func deployments() throws(StateError) -> [String] {
        try PrivateFiles.checkNotLinked(directory)
        guard FileManager.default.fileExists(atPath: directory) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        } catch {
            throw .io("\(directory) cannot be listed: \(StateStore.reason(error))", path: directory)
        }
    }
}
