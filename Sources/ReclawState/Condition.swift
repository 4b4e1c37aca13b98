import Foundation

/// The conditions a deployment reports, named as Kubernetes and Flux name them.
public enum ConditionType: String, Sendable, Codable, CaseIterable {
    case ready = "Ready"
    case reconciling = "Reconciling"
    case stalled = "Stalled"
    /// AWS differs from the last applied revision (drift left under `policy.drift: alert`, or not
    /// yet corrected), as Argo CD shows OutOfSync. Set once a drift check has run.
    case drifted = "Drifted"
    /// The revision in force passed `--allowed-signers`/`--trusted-keys` (set only when they are given).
    case sourceVerified = "SourceVerified"
}

/// A condition's status in the Kubernetes convention: `"True"`, `"False"` or `"Unknown"`.
public enum ConditionStatus: String, Sendable, Codable, CaseIterable {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"

    public init(_ flag: Bool) { self = flag ? .true : .false }
}

/// Why a condition is what it is: one CamelCase word, as Kubernetes reasons are.
public enum ConditionReason: String, Sendable, Codable, CaseIterable {
    /// The revision in force is applied and AWS matched it.
    case reconciliationSucceeded = "ReconciliationSucceeded"
    /// An apply is under way.
    case applying = "Applying"
    /// An apply waits for AWS (a resource becoming available, a role propagating, an agent registering).
    case waiting = "Waiting"
    /// Nothing is being done.
    case idle = "Idle"
    /// The spec does not pass validation; the deployment is left as it was.
    case invalidSpec = "InvalidSpec"
    /// AWS could not be observed for this deployment.
    case planFailed = "PlanFailed"
    /// A step of the apply failed.
    case applyFailed = "ApplyFailed"
    /// A change needs a replacement that the spec does not allow.
    case replacementBlocked = "ReplacementBlocked"
    /// A component cannot be told apart from resources that carry its tags (look-alikes).
    case duplicateResource = "DuplicateResource"
    /// A drift check found AWS differing from the last applied revision.
    case driftDetected = "DriftDetected"
    /// A drift check or an apply found AWS matching the last applied revision.
    case inSync = "InSync"
    /// A shutdown stopped the apply between steps.
    case interrupted = "Interrupted"
    /// The deployment's state file cannot be read or written.
    case stateUnavailable = "StateUnavailable"
    /// The audit log cannot record what reclaw would do.
    case auditUnavailable = "AuditUnavailable"
    /// The next attempt comes after a backoff.
    case retrying = "Retrying"
    /// Nothing blocks progress.
    case converged = "Converged"
    /// Another replica holds the deployment's lease.
    case notOwned = "NotOwned"
    /// The operator's policy command refused the plan: nothing of it was applied.
    case policyDenied = "PolicyDenied"
    /// The tip of the ref carries a signature by a trusted key.
    case signatureVerified = "SignatureVerified"
    /// The tip of the ref was refused for its signature; the last verified revision stays in force.
    case signatureRefused = "SignatureRefused"
    /// A reason this version of reclaw does not know (written by another version).
    case unknown = "Unknown"

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = ConditionReason(rawValue: raw) ?? .unknown
    }
}

/// One condition of a deployment in the Kubernetes convention, with the revision it was observed at.
public struct Condition: Sendable, Codable, Hashable {
    public var type: ConditionType
    public var status: ConditionStatus
    public var reason: ConditionReason
    public var message: String
    public var lastTransitionTime: Date
    /// The source revision the condition describes.
    public var observedRevision: String?

    public init(type: ConditionType, status: ConditionStatus, reason: ConditionReason, message: String, lastTransitionTime: Date,
                observedRevision: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedRevision = observedRevision
    }

    public var isTrue: Bool { status == .true }

    enum CodingKeys: String, CodingKey { case type, status, reason, message, lastTransitionTime, observedRevision }

    /// Also reads the status files of earlier versions, whose status was a boolean.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(ConditionType.self, forKey: .type)
        if let flag = try? c.decode(Bool.self, forKey: .status) {
            status = ConditionStatus(flag)
        } else {
            status = try c.decode(ConditionStatus.self, forKey: .status)
        }
        reason = try c.decode(ConditionReason.self, forKey: .reason)
        message = try c.decode(String.self, forKey: .message)
        lastTransitionTime = try c.decode(Date.self, forKey: .lastTransitionTime)
        observedRevision = try c.decodeIfPresent(String.self, forKey: .observedRevision)
    }
}
