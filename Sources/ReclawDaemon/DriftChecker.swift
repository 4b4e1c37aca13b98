import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawSpec
import ReclawState

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

    /// Per attribute, what reclaw applied (`before`) and what AWS has now (`after`).
    public var diff: JSONValue {
        .object(Dictionary(items.map { item in
            ("\(item.key).\(item.attribute)", ["resourceID": item.resourceID.map { .string($0) } ?? .null,
                                               "before": item.expected ?? .null, "after": item.actual ?? .null] as JSONValue)
        }, uniquingKeysWith: { a, _ in a }))
    }

    /// A stable identity of the drift, so the same drift is not alerted twice.
    public var fingerprint: String { Digest.fnv1a(diff.description) }

    public var summary: String {
        items.map { "\($0.key)\($0.resourceID.map { " (\($0))" } ?? "") \($0.attribute)" }.joined(separator: ", ")
    }
}

/// Compares each deployment with what reclaw last applied to it and attributes the differences.
public struct DriftChecker: Sendable {
    public let reconciler: Reconciler
    public let attributor: DriftAttributor
    /// reclaw's own request ids (from the audit log), left out of attributions.
    public let ownRequestIDs: @Sendable () -> Set<String>

    public init(reconciler: Reconciler, ownRequestIDs: @escaping @Sendable () -> Set<String>) {
        self.reconciler = reconciler
        attributor = DriftAttributor(client: reconciler.client)
        self.ownRequestIDs = ownRequestIDs
    }

    /// Checks every deployment with a last applied spec. Deployments without drift get their
    /// `lastInSyncAt` moved forward.
    public func check(_ statuses: [DeploymentStatus]) async -> [Result<DriftFinding?, PlanFailure>] {
        let applied = statuses.filter { $0.lastAppliedSpec != nil }
        let targets = applied.map { ReconcileTarget(spec: $0.lastAppliedSpec!, revision: $0.lastAppliedRevision ?? "unknown") }
        var out: [Result<DriftFinding?, PlanFailure>] = []
        for result in await reconciler.plan(targets, record: false) {
            switch result {
            case .failure(let f):
                out.append(.failure(f))
            case .success(let planned):
                let status = applied.first { $0.deployment == planned.name }
                let now = Date()
                if planned.plan.drift.isEmpty {
                    _ = try? reconciler.state.update(planned.name) { s in
                        s.lastDriftCheckAt = now
                        s.lastInSyncAt = now
                        s.drift = []
                    }
                    out.append(.success(nil))
                    continue
                }
                var finding = DriftFinding(deployment: planned.name, region: planned.plan.region, planned: planned, items: planned.plan.drift,
                                           attribution: [], attributionStatus: "pending")
                await attribute(&finding, since: status?.lastInSyncAt ?? status?.lastAppliedAt ?? now.addingTimeInterval(-3600))
                _ = try? reconciler.state.update(planned.name) { s in
                    s.lastDriftCheckAt = now
                    s.drift = finding.items.map { "\($0.key) \($0.attribute): \(($0.expected ?? .null).description) → \(($0.actual ?? .null).description)" }
                }
                out.append(.success(finding))
            }
        }
        return out
    }

    /// Looks the drifted resources up in CloudTrail; leaves the status `pending` when nothing is there yet.
    public func attribute(_ finding: inout DriftFinding, since: Date) async {
        let byRegion = Dictionary(grouping: finding.items.compactMap { item -> (String, String)? in
            guard let id = item.resourceID else { return nil }
            let kind = Components.kind(of: item.key)
            return (kind == .role || kind == .instanceProfile ? "us-east-1" : finding.region, id)
        }, by: \.0)
        var found: [AuditEvent.Attribution] = []
        do {
            for (region, pairs) in byRegion {
                found += try await attributor.attribute(resources: pairs.map(\.1), region: region, since: since, ownRequestIDs: ownRequestIDs())
            }
        } catch {
            finding.attributionStatus = "unavailable"
            return
        }
        finding.attribution = found.sorted { $0.eventTime < $1.eventTime }
        finding.attributionStatus = found.isEmpty ? "pending" : "attributed"
    }

    /// The audit event for a finding: DriftDetected, or DriftCorrected once the correction converged.
    public static func event(_ finding: DriftFinding, corrected: Bool, revision: String? = nil) -> AuditEvent {
        let who = finding.attribution.isEmpty
            ? (finding.attributionStatus == "pending" ? "CloudTrail has not delivered the change yet" : "the change could not be attributed")
            : "changed by " + finding.attribution.map { "\($0.userIdentityArn ?? "unknown") (\($0.eventName) at \($0.eventTime))" }.joined(separator: "; ")
        return AuditEvent(
            type: corrected ? .driftCorrected : .driftDetected, deployment: finding.deployment,
            revision: revision ?? finding.planned.plan.revision, planID: finding.planned.plan.id, awsRegion: finding.region,
            resources: finding.items.compactMap { item in item.resourceID.map { .init(type: Components.kind(of: item.key)?.typeName ?? "", name: $0) } },
            diff: finding.diff, attribution: finding.attribution, attributionStatus: finding.attributionStatus,
            message: "\(finding.deployment): drift on \(finding.summary); \(who)\(corrected ? "; corrected" : "")")
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
