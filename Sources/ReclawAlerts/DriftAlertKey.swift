import ReclawAudit
import ReclawController
import ReclawEngine
import ReclawJSON

/// What makes two drift alerts the same: each drifted (resource, attribute, value) and who made
/// the change. The same change made again by another actor is a new alert, never folded into
/// the first one's window.
public struct DriftAlertKey: Sendable, Hashable, CustomStringConvertible {
    /// One drifted attribute: its resource (its id, or its component key when it is gone) and
    /// the value AWS has now.
    public struct Change: Sendable, Hashable {
        public var resource: String
        public var attribute: String
        public var value: String
    }

    public var changes: [Change]
    /// Who made it: the identities CloudTrail named (their ARN, else their access key), sorted;
    /// empty when nobody is known yet.
    public var actors: [String]

    public init(items: [DriftItem], attribution: [AuditEvent.Attribution]) {
        changes = items.map { Change(resource: $0.resourceID ?? $0.key, attribute: $0.attribute, value: ($0.actual ?? .null).description) }
            .sorted { ($0.resource, $0.attribute, $0.value) < ($1.resource, $1.attribute, $1.value) }
        actors = Set(attribution.map { $0.userIdentityArn ?? $0.accessKeyId ?? "unknown" }).sorted()
    }

    public init(_ finding: DriftFinding) {
        self.init(items: finding.items, attribution: finding.attribution)
    }

    /// A short stable digest of the whole key.
    public var description: String {
        let text = changes.map { "\($0.resource)\u{1F}\($0.attribute)\u{1F}\($0.value)" }.joined(separator: "\u{1E}")
            + "\u{1D}" + actors.joined(separator: "\u{1F}")
        return Digest.fnv1a(text)
    }

    /// The alert memory's key for an alert of `kind` (`corrected`, `uncorrected`, `drift`) on a deployment.
    public func alertKey(_ kind: String, deployment: String) -> String { "\(kind)/\(deployment)/\(self)" }
}
