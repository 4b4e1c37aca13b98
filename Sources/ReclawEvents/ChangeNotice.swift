import Foundation
import ReclawAudit
import ReclawState

/// A change to a deployment's resources that CloudTrail reported as it happened (its EventBridge
/// event), already matched to the deployment: it wakes the deployment's drift check at once and
/// names who made the change, so attribution need not wait for CloudTrail's lookup.
public struct ChangeNotice: Sendable, Hashable {
    public var deployment: String
    /// The resources the event named (ids, role names, parameter names).
    public var resources: [String]
    /// The resources the call acted on (its request's targets, and what an association or rule
    /// among them belongs to): it can be the author of a change to these only.
    public var targets: [String]
    public var attribution: AuditEvent.Attribution
    public var receivedAt: Date

    public init(deployment: String, resources: [String], targets: [String], attribution: AuditEvent.Attribution, receivedAt: Date) {
        self.deployment = deployment
        self.resources = resources
        self.targets = targets
        self.attribution = attribution
        self.receivedAt = receivedAt
    }

    /// Whether the notice's call can have made the change to `target` (`Authorship`).
    public func isAuthor(of target: Authorship.Target) -> Bool {
        Authorship.isAuthor(eventName: attribution.eventName, targets: Set(targets), of: target)
    }
}
