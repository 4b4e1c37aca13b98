import Foundation
import ReclawEngine
import ReclawSpec

/// What reclaw knows about one deployment between runs: the revisions it applied and attempted,
/// what the last apply left, its drift, and its conditions.
public struct DeploymentStatus: Sendable, Codable, Hashable {
    public var deployment: String
    /// The region whose resources `resourceIDs` records.
    public var region: String?
    /// Every region the deployment has had resources in since they were last all deleted: a
    /// region change leaves the old one here until its resources are gone.
    public var regions: [String]
    /// The revision in force whose spec AWS was last confirmed to match.
    public var lastAppliedRevision: String?
    /// The revision last tried, converged or not.
    public var lastAttemptedRevision: String?
    /// When `lastAppliedRevision` was confirmed (applied, or found already in force).
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
    /// A stable identity of the drift last found, so the same drift is reported once.
    public var driftFingerprint: String?
    /// The replica that holds the deployment's lease, when reclaw runs as several replicas.
    public var owner: String?
    /// Why no live replica owns the deployment, when one of the replicas saw that (its lease names
    /// an owner that does not renew it, or none).
    public var unowned: String?
    /// Who signed the revision in force (principal or OpenPGP user id, and key fingerprint), when
    /// signatures are verified.
    public var verifiedSigner: String?

    public init(deployment: String) {
        self.deployment = deployment
        resourceIDs = [:]
        regions = []
        conditions = []
        drift = []
    }

    /// The regions that may hold the deployment's resources (`region` included).
    public var resourceRegions: [String] {
        Array(Set(regions + (region.map { [$0] } ?? []))).sorted()
    }

    /// Adds a region that now holds resources of the deployment.
    public mutating func holdsResources(in region: String) {
        if !regions.contains(region) { regions = (regions + [region]).sorted() }
    }

    public func condition(_ type: ConditionType) -> Condition? { conditions.first { $0.type == type } }

    /// Whether a condition is currently `True`.
    public func holds(_ type: ConditionType) -> Bool { condition(type)?.isTrue == true }

    /// Sets a condition; its transition time changes only when its status does. The message is
    /// bounded (`ConditionMessage`).
    public mutating func set(_ type: ConditionType, _ status: ConditionStatus, _ reason: ConditionReason, _ message: String,
                             revision: String? = nil, now: Date) {
        let message = ConditionMessage.capped(message)
        if let i = conditions.firstIndex(where: { $0.type == type }) {
            if conditions[i].status != status { conditions[i].lastTransitionTime = now }
            conditions[i].status = status
            conditions[i].reason = reason
            conditions[i].message = message
            conditions[i].observedRevision = revision ?? conditions[i].observedRevision
        } else {
            conditions.append(Condition(type: type, status: status, reason: reason, message: message, lastTransitionTime: now,
                                        observedRevision: revision))
        }
        conditions.sort { ConditionType.allCases.firstIndex(of: $0.type)! < ConditionType.allCases.firstIndex(of: $1.type)! }
    }

    enum CodingKeys: String, CodingKey {
        case deployment, region, regions, lastAppliedRevision, lastAttemptedRevision, lastAppliedAt, lastAttemptedAt, lastPlanID, lastAppliedSpec,
             lastApplied, resourceIDs, location, conditions, lastDriftCheckAt, lastInSyncAt, drift, driftFingerprint, owner, unowned, verifiedSigner
    }

    /// Reads status files of earlier versions too (fields added since are optional).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deployment = try c.decode(String.self, forKey: .deployment)
        region = try c.decodeIfPresent(String.self, forKey: .region)
        regions = try c.decodeIfPresent([String].self, forKey: .regions) ?? []
        lastAppliedRevision = try c.decodeIfPresent(String.self, forKey: .lastAppliedRevision)
        lastAttemptedRevision = try c.decodeIfPresent(String.self, forKey: .lastAttemptedRevision)
        lastAppliedAt = try c.decodeIfPresent(Date.self, forKey: .lastAppliedAt)
        lastAttemptedAt = try c.decodeIfPresent(Date.self, forKey: .lastAttemptedAt)
        lastPlanID = try c.decodeIfPresent(String.self, forKey: .lastPlanID)
        lastAppliedSpec = try c.decodeIfPresent(DeploymentSpec.self, forKey: .lastAppliedSpec)
        lastApplied = try c.decodeIfPresent(DesiredGraph.self, forKey: .lastApplied)
        resourceIDs = try c.decodeIfPresent([String: String].self, forKey: .resourceIDs) ?? [:]
        location = try c.decodeIfPresent(String.self, forKey: .location)
        conditions = try c.decodeIfPresent([Condition].self, forKey: .conditions) ?? []
        lastDriftCheckAt = try c.decodeIfPresent(Date.self, forKey: .lastDriftCheckAt)
        lastInSyncAt = try c.decodeIfPresent(Date.self, forKey: .lastInSyncAt)
        drift = try c.decodeIfPresent([String].self, forKey: .drift) ?? []
        driftFingerprint = try c.decodeIfPresent(String.self, forKey: .driftFingerprint)
        owner = try c.decodeIfPresent(String.self, forKey: .owner)
        unowned = try c.decodeIfPresent(String.self, forKey: .unowned)
        verifiedSigner = try c.decodeIfPresent(String.self, forKey: .verifiedSigner)
    }
}

/// Deployment names as the spec allows them (`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`), checked before a
/// name becomes a file name: a name that fails never reaches the file system.
public enum DeploymentName {
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (2...32).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z"), digit = UInt8(ascii: "0")...UInt8(ascii: "9")
        guard lower.contains(first), lower.contains(last) || digit.contains(last) else { return false }
        return bytes.allSatisfy { lower.contains($0) || digit.contains($0) || $0 == UInt8(ascii: "-") }
    }
}
