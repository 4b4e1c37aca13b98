import Foundation
import ReclawEngine
import ReclawSpec

/// A condition of a deployment, as Kubernetes and Flux report them: Ready, Reconciling, Stalled.
public struct Condition: Sendable, Codable, Hashable {
    public var type: String
    public var status: Bool
    public var reason: String
    public var message: String
    public var lastTransitionTime: Date

    public init(type: String, status: Bool, reason: String, message: String, lastTransitionTime: Date = Date()) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}

/// What reclaw knows about one deployment between runs: the revisions it applied and attempted,
/// what the last apply left, and its conditions.
public struct DeploymentStatus: Sendable, Codable, Hashable {
    public var deployment: String
    public var region: String?
    /// The revision whose apply converged last.
    public var lastAppliedRevision: String?
    /// The revision last tried, converged or not.
    public var lastAttemptedRevision: String?
    public var lastAppliedAt: Date?
    public var lastAttemptedAt: Date?
    public var lastPlanID: String?
    /// The spec and desired graph of the last converged apply: the baseline for drift.
    public var lastAppliedSpec: DeploymentSpec?
    public var lastApplied: DesiredGraph?
    /// Resource ids after the last apply.
    public var resourceIDs: [String: String]
    /// Where the spec was last read from (file:line:col).
    public var location: String?
    public var conditions: [Condition]
    public var lastDriftCheckAt: Date?
    /// The last time AWS was seen to match the last applied state (an apply, or a clean drift check).
    public var lastInSyncAt: Date?
    /// The drift last found (empty when none), rendered as `key attribute: expected → actual`.
    public var drift: [String]

    public init(deployment: String) {
        self.deployment = deployment
        resourceIDs = [:]
        conditions = []
        drift = []
    }

    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type } }

    /// Sets a condition; its transition time changes only when its status does.
    public mutating func set(_ type: String, _ status: Bool, reason: String, message: String, now: Date = Date()) {
        if let i = conditions.firstIndex(where: { $0.type == type }) {
            let changed = conditions[i].status != status
            conditions[i].status = status
            conditions[i].reason = reason
            conditions[i].message = message
            if changed { conditions[i].lastTransitionTime = now }
        } else {
            conditions.append(Condition(type: type, status: status, reason: reason, message: message, lastTransitionTime: now))
        }
        conditions.sort { ["Ready", "Reconciling", "Stalled"].firstIndex(of: $0.type) ?? 9 < ["Ready", "Reconciling", "Stalled"].firstIndex(of: $1.type) ?? 9 }
    }
}

/// The state directory: one status file per deployment, written durably.
public struct StateStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// `$RECLAW_STATE_DIR`, else `$XDG_STATE_HOME/reclaw`, else `~/.local/state/reclaw`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let d = environment["RECLAW_STATE_DIR"], !d.isEmpty { return d }
        if let x = environment["XDG_STATE_HOME"], !x.isEmpty { return x + "/reclaw" }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.local/state/reclaw"
    }

    var deploymentsDirectory: String { directory + "/deployments" }

    public func path(for deployment: String) -> String { "\(deploymentsDirectory)/\(deployment).json" }

    public func load(_ deployment: String) throws -> DeploymentStatus? {
        guard let data = FileManager.default.contents(atPath: path(for: deployment)) else { return nil }
        do {
            return try Self.decoder.decode(DeploymentStatus.self, from: data)
        } catch {
            throw StateError.corrupt("\(path(for: deployment)) is not a readable status file: \(error)")
        }
    }

    public func save(_ status: DeploymentStatus) throws {
        try DurableFile.write(try Self.encoder.encode(status), to: path(for: status.deployment))
    }

    public func remove(_ deployment: String) throws {
        try? FileManager.default.removeItem(atPath: path(for: deployment))
        DurableFile.syncDirectory(deploymentsDirectory)
    }

    /// Every deployment with a status file.
    public func all() throws -> [DeploymentStatus] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: deploymentsDirectory)) ?? []
        return try names.filter { $0.hasSuffix(".json") }.sorted().compactMap { try load(String($0.dropLast(5))) }
    }

    /// Loads, changes and saves one deployment's status.
    @discardableResult
    public func update(_ deployment: String, _ change: (inout DeploymentStatus) -> Void) throws -> DeploymentStatus {
        var status = try load(deployment) ?? DeploymentStatus(deployment: deployment)
        change(&status)
        try save(status)
        return status
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}
