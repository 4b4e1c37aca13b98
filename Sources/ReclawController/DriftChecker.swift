import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawSpec
import ReclawState
import ReclawTime

/// Drift found on one deployment, with who caused it when CloudTrail says.
public struct DriftFinding: Sendable {
    public var deployment: String
    public var region: String
    /// The plan against the last applied spec: its actions correct the drift.
    public var planned: PlannedDeployment
    public var items: [DriftItem]
    public var attribution: [AuditEvent.Attribution]
    /// `attributed`, `pending` (CloudTrail has not delivered yet) or `unavailable` (it could not be asked).
    public var attributionStatus: String

    package init(deployment: String, region: String, planned: PlannedDeployment, items: [DriftItem], attribution: [AuditEvent.Attribution],
                 attributionStatus: String) {
        self.deployment = deployment
        self.region = region
        self.planned = planned
        self.items = items
        self.attribution = attribution
        self.attributionStatus = attributionStatus
    }

    /// Per attribute, what reclaw applied (`before`) and what AWS has now (`after`).
    public var diff: JSONValue { Self.diff(of: items) }

    public static func diff(of items: [DriftItem]) -> JSONValue {
        .object(Dictionary(items.map { item in
            ("\(item.key).\(item.attribute)", ["resourceID": item.resourceID.map { .string($0) } ?? .null,
                                               "before": item.expected ?? .null, "after": item.actual ?? .null] as JSONValue)
        }, uniquingKeysWith: { a, _ in a }))
    }

    /// A stable identity of the drift, so the same drift is not alerted twice.
    public var fingerprint: String { Digest.fnv1a(diff.description) }

    public var summary: String {
        items.map { item in
            item.isLookAlike ? "\(item.key) look-alike \(item.resourceID ?? "?") (DuplicateResource)"
                : "\(item.key)\(item.resourceID.map { " (\($0))" } ?? "") \(item.attribute)"
        }.joined(separator: ", ")
    }
}

/// Compares each deployment with what reclaw last applied to it and attributes the differences.
/// It only reads: recording what it found is the caller's business.
public struct DriftChecker: Sendable {
    public let reconciler: any DeploymentReconciler
    public let attributor: any DriftAuthorLookup
    /// reclaw's own request ids (from the audit log), left out of attributions.
    public let ownRequestIDs: @Sendable () -> Set<String>
    public let now: @Sendable () -> Date
    /// Told of every deployment observed, so the daemon can map CloudTrail's events to it.
    public var onObserved: (@Sendable (ObservedDeployment) -> Void)?

    public init(reconciler: any DeploymentReconciler, attributor: (any DriftAuthorLookup)? = nil, ownRequestIDs: @escaping @Sendable () -> Set<String>,
                now: @escaping @Sendable () -> Date = { Clocks.date() }) {
        self.reconciler = reconciler
        self.attributor = attributor ?? reconciler.driftAuthors()
        self.ownRequestIDs = ownRequestIDs
        self.now = now
    }

    /// Checks each deployment against its last applied spec, one result per status in the same
    /// order (nil: no drift, or never applied). One observation per region covers them all.
    public func check(_ statuses: [DeploymentStatus]) async -> [Result<DriftFinding?, PlanFailure>] {
        let applied = statuses.filter { $0.lastAppliedSpec != nil }
        let targets = applied.map { ReconcileTarget(spec: $0.lastAppliedSpec!, revision: $0.lastAppliedRevision ?? "unknown") }
        var byName: [String: Result<DriftFinding?, PlanFailure>] = [:]
        for result in await reconciler.plan(targets, record: false, warn: true) {
            switch result {
            case .failure(let f):
                byName[f.deployment] = .failure(f)
            case .success(let planned):
                onObserved?(planned.observed)
                guard !planned.plan.drift.isEmpty else {
                    byName[planned.name] = .success(nil)
                    continue
                }
                let status = applied.first { $0.deployment == planned.name }
                var finding = DriftFinding(deployment: planned.name, region: planned.plan.region, planned: planned, items: planned.plan.drift,
                                           attribution: [], attributionStatus: "pending")
                await attribute(&finding, since: status?.lastInSyncAt ?? status?.lastAppliedAt ?? now().addingTimeInterval(-3600))
                byName[planned.name] = .success(finding)
            }
        }
        return statuses.map { byName[$0.deployment] ?? .success(nil) }
    }

    /// Looks the drifted resources up in CloudTrail; leaves the status `pending` when nothing is there yet.
    public func attribute(_ finding: inout DriftFinding, since: Date) async {
        (finding.attribution, finding.attributionStatus) = await attribution(of: finding.items, region: finding.region, since: since)
    }

    /// Who changed these items since `since`, and the status: `attributed`, `pending` (CloudTrail
    /// has nothing yet) or `unavailable` (it could not be asked). IAM's events are in us-east-1.
    public func attribution(of items: [DriftItem], region: String, since: Date) async -> ([AuditEvent.Attribution], String) {
        let byRegion = Dictionary(grouping: Self.targets(items), by: { target in
            target.kind == .role || target.kind == .instanceProfile ? "us-east-1" : region
        })
        var found: [AuditEvent.Attribution] = []
        do {
            for (region, pairs) in byRegion.sorted(by: { $0.key < $1.key }) {
                found += try await attributor.attribute(targets: pairs, region: region, since: since, ownRequestIDs: ownRequestIDs(), now: now())
            }
        } catch {
            return ([], "unavailable")
        }
        return (found.sorted { $0.eventTime < $1.eventTime }, found.isEmpty ? "pending" : "attributed")
    }

    /// What an author of these items must have changed: each drifted attribute of a resource
    /// whose id is known.
    public static func targets(_ items: [DriftItem]) -> [Authorship.Target] {
        items.compactMap { item in
            guard let id = item.resourceID, let kind = Components.kind(of: item.key) else { return nil }
            return Authorship.Target(kind: kind, resourceID: id, attribute: item.attribute)
        }
    }

    /// The audit event for a finding: DriftDetected, or DriftCorrected once the correction converged.
    /// `policy` is the deployment's `policy.drift` when it decided what happened (in `details.driftPolicy`).
    public static func event(_ finding: DriftFinding, corrected: Bool, revision: String? = nil, time: Date = Clocks.date(),
                             policy: DeploymentSpec.Policy.Drift? = nil) -> AuditEvent {
        let who = finding.attribution.isEmpty
            ? (finding.attributionStatus == "pending" ? "CloudTrail has not delivered the change yet" : "the change could not be attributed")
            : "changed by " + finding.attribution.map { "\($0.userIdentityArn ?? "unknown") (\($0.eventName) at \($0.eventTime))" }.joined(separator: "; ")
        return AuditEvent(
            type: corrected ? .driftCorrected : .driftDetected, time: time, deployment: finding.deployment,
            revision: revision ?? finding.planned.plan.revision, planID: finding.planned.plan.id, awsRegion: finding.region,
            resources: finding.items.compactMap { item in item.resourceID.map { .init(type: Components.kind(of: item.key)?.typeName ?? "", name: $0) } },
            diff: finding.diff, attribution: finding.attribution, attributionStatus: finding.attributionStatus,
            message: "\(finding.deployment): drift on \(finding.summary); \(who)\(corrected ? "; corrected" : "")",
            details: policy.map { ["driftPolicy": .string($0.rawValue)] })
    }
}

/// Durations written as `90s`, `5m`, `1h`, `2d` (or a bare number of seconds).
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let unit = t.last else { return nil }
        if unit.isNumber { return Double(t).map { .milliseconds(Int($0 * 1000)) } }
        guard let value = Double(t.dropLast()), value >= 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = value
        case "m": seconds = value * 60
        case "h": seconds = value * 3600
        case "d": seconds = value * 86400
        default: return nil
        }
        return .milliseconds(Int(seconds * 1000))
    }
}
