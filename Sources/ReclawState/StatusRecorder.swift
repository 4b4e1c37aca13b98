import Foundation
import ReclawEngine
import ReclawSpec
import ReclawTime

/// Derives a deployment's conditions from what happened to it, in one place, and writes them
/// durably. Every method throws when the status cannot be read or written: the caller then stops
/// work on that deployment rather than act on a state it cannot keep.
public struct StatusRecorder: Sendable {
    public let store: StateStore
    public let now: @Sendable () -> Date
    /// Where each status goes once its conditions are written.
    public let feed: ConditionFeed

    public init(store: StateStore, now: @escaping @Sendable () -> Date = { Clocks.date() }, feed: ConditionFeed = ConditionFeed()) {
        self.store = store
        self.now = now
        self.feed = feed
    }

    /// Changes a deployment's conditions durably, then hands the status to the feed.
    func write(_ deployment: String, _ change: (inout DeploymentStatus) -> Void) throws(StateError) -> DeploymentStatus {
        let status = try store.update(deployment, change)
        feed.written(status)
        return status
    }

    /// An apply of `plan` starts.
    @discardableResult
    public func applying(_ plan: Plan) throws(StateError) -> DeploymentStatus {
        let now = now()
        return try write(plan.deployment) { s in
            s.region = s.region ?? plan.region
            s.lastAttemptedRevision = plan.revision
            s.lastAttemptedAt = now
            s.lastPlanID = plan.id
            s.set(.reconciling, .true, .applying, plan.summary, revision: plan.revision, now: now)
        }
    }

    /// The apply waits for AWS; the message says for what and for how long.
    @discardableResult
    public func waiting(_ deployment: String, revision: String, message: String) throws(StateError) -> DeploymentStatus {
        let now = now()
        return try write(deployment) { $0.set(.reconciling, .true, .waiting, message, revision: revision, now: now) }
    }

    /// The apply goes on after the waits it reported ended.
    @discardableResult
    public func applyingAgain(_ plan: Plan) throws(StateError) -> DeploymentStatus {
        let now = now()
        return try write(plan.deployment) { $0.set(.reconciling, .true, .applying, plan.summary, revision: plan.revision, now: now) }
    }

    /// An apply ended. A destroy that converged removes the status; otherwise the conditions say
    /// how it ended and, when it converged, the applied spec becomes the drift baseline.
    @discardableResult
    public func applied(_ plan: Plan, result: ApplyResult, desired: DesiredGraph?, spec: DeploymentSpec?, location: String?,
                        retiring: Bool = false) throws(StateError) -> DeploymentStatus? {
        if desired == nil {
            guard result.converged else { return nil }
            if !retiring {
                try store.remove(plan.deployment)
                return nil
            }
            // One region of several is empty now; the deployment lives on elsewhere, and nothing
            // is being applied to it any more.
            let now = now()
            return try write(plan.deployment) { s in
                s.regions.removeAll { $0 == plan.region }
                if s.region == plan.region { s.region = s.regions.first }
                s.set(.reconciling, .false, .idle, "", revision: plan.revision, now: now)
            }
        }
        let created = result.outcomes.contains { $0.step.operation == .create && $0.succeeded }
        let now = now()
        let revision = plan.revision
        return try write(plan.deployment) { s in
            s.set(.reconciling, .false, .idle, "", revision: revision, now: now)
            if let location { s.location = location }
            // What exists after the apply, converged or not: reclaw's record of its resources. A
            // plan for another region that made nothing (a blocked move) leaves the record alone.
            if s.region == nil || s.region == plan.region || created {
                s.region = plan.region
                s.resourceIDs = result.ids
                if !result.ids.isEmpty { s.holdsResources(in: plan.region) }
            }
            if result.converged {
                s.lastAppliedRevision = revision
                s.lastAppliedAt = now
                s.lastInSyncAt = now
                s.lastApplied = desired
                s.lastAppliedSpec = spec
                s.drift = []
                if s.condition(.drifted) != nil { s.set(.drifted, .false, .inSync, "", revision: revision, now: now) }
                s.driftFingerprint = nil
                s.set(.ready, .true, .reconciliationSucceeded, "applied revision \(revision)", revision: revision, now: now)
                s.set(.stalled, .false, .converged, "", revision: revision, now: now)
            } else if let failure = result.recordFailure {
                s.set(.ready, .false, .auditUnavailable, "the audit log cannot record the apply: \(failure)", revision: revision, now: now)
                s.set(.stalled, .true, .auditUnavailable, "no AWS call starts until the audit log takes events again", revision: revision, now: now)
            } else if result.problems.allSatisfy({ if case .notStarted = $0.status { return true }; return false }) {
                s.set(.ready, .false, .interrupted, "shut down with \(result.problems.count) steps not started; the next start resumes",
                      revision: revision, now: now)
                s.set(.stalled, .false, .interrupted, "", revision: revision, now: now)
            } else {
                let block = result.problems.first { if case .blocked = $0.status { return true }; return false }
                let first = (block ?? result.problems.first).map { "\($0.step): \(Self.describe($0.status))" } ?? "not converged"
                let reason = Self.blockReason(plan)
                s.set(.ready, .false, block != nil ? reason : .applyFailed, first, revision: revision, now: now)
                s.set(.stalled, .init(block != nil), block != nil ? reason : .retrying,
                      block == nil ? "the next attempt comes after a backoff"
                        : reason == .duplicateResource ? "remove reclaw's tags from the look-alikes the plan lists"
                        : "a change needs policy.allowReplace: true or a spec edit",
                      revision: revision, now: now)
            }
        }
    }

    /// The condition reason of a plan's blocked actions: look-alikes first, they need an operator.
    public static func blockReason(_ plan: Plan) -> ConditionReason {
        plan.actions.contains { $0.blockKind == .unidentified } ? .duplicateResource : .replacementBlocked
    }

    /// A resource reclaw just created is on record before anything else happens, so a crash
    /// right after never leaves it to be found by its tags alone.
    public func created(_ deployment: String, region: String, key: ComponentKey, id: String) throws(StateError) {
        try store.update(deployment) { s in
            s.resourceIDs[key] = id
            s.holdsResources(in: region)
        }
    }

    /// The revision is in force without touching AWS: its spec is the one already applied.
    @discardableResult
    public func confirmed(_ deployment: String, revision: String, location: String?) throws(StateError) -> DeploymentStatus {
        let now = now()
        return try write(deployment) { s in
            if let location { s.location = location }
            guard s.lastAppliedRevision != revision || !s.holds(.ready) else { return }
            s.lastAppliedRevision = revision
            s.lastAttemptedRevision = revision
            s.lastAttemptedAt = now
            s.lastAppliedAt = now
            s.set(.ready, .true, .reconciliationSucceeded, "applied revision \(revision)", revision: revision, now: now)
            s.set(.stalled, .false, .converged, "", revision: revision, now: now)
            if !s.holds(.reconciling) { s.set(.reconciling, .false, .idle, "", revision: revision, now: now) }
        }
    }

    /// The spec at `revision` is invalid (`diagnostics`, one per error): the deployment is left
    /// exactly as it was. The message shows the first few and counts the rest.
    @discardableResult
    public func invalidSpec(_ deployment: String, revision: String, diagnostics: [String]) throws(StateError) -> DeploymentStatus {
        let now = now()
        let message = ConditionMessage.list(diagnostics)
        return try write(deployment) { s in
            s.lastAttemptedRevision = revision
            s.lastAttemptedAt = now
            s.set(.ready, .false, .invalidSpec, message, revision: revision, now: now)
            s.set(.stalled, .true, .invalidSpec, "fix the spec; the deployment is left as it was", revision: revision, now: now)
            if !s.holds(.reconciling) { s.set(.reconciling, .false, .idle, "", revision: revision, now: now) }
        }
    }

    /// AWS could not be observed for the deployment; the next attempt comes after a backoff.
    @discardableResult
    public func planFailed(_ deployment: String, revision: String, region: String?, location: String?, message: String) throws(StateError) -> DeploymentStatus {
        let now = now()
        return try write(deployment) { s in
            s.region = s.region ?? region
            if let location { s.location = location }
            s.lastAttemptedRevision = revision
            s.lastAttemptedAt = now
            s.set(.ready, .false, .planFailed, message, revision: revision, now: now)
            s.set(.stalled, .false, .retrying, "the next attempt comes after a backoff", revision: revision, now: now)
        }
    }

    /// The operator's policy command refused the plan of `revision`: nothing was applied, and a
    /// later revision the policy allows is.
    @discardableResult
    public func policyDenied(_ deployment: String, revision: String, message: String) throws(StateError) -> DeploymentStatus {
        let now = now()
        return try write(deployment) { s in
            s.lastAttemptedRevision = revision
            s.lastAttemptedAt = now
            s.set(.ready, .false, .policyDenied, message, revision: revision, now: now)
            s.set(.stalled, .true, .policyDenied, "a revision the policy command allows is applied when it comes", revision: revision, now: now)
        }
    }

    /// A drift check found AWS matching the last applied state.
    @discardableResult
    public func inSync(_ deployment: String) throws(StateError) -> DeploymentStatus {
        let now = now()
        return try write(deployment) { s in
            s.lastDriftCheckAt = now
            s.lastInSyncAt = now
            s.drift = []
            s.driftFingerprint = nil
            s.set(.drifted, .false, .inSync, "", revision: s.lastAppliedRevision, now: now)
        }
    }

    /// A drift check found drift; returns whether it differs from the drift found last time.
    @discardableResult
    public func drifted(_ deployment: String, items: [DriftItem], fingerprint: String) throws(StateError) -> Bool {
        let now = now()
        var changed = false
        try write(deployment) { s in
            changed = s.driftFingerprint != fingerprint
            s.lastDriftCheckAt = now
            let attributes = items.map { "\($0.key) \($0.attribute)" }
            let shown = attributes.prefix(5).joined(separator: ", ") + (attributes.count > 5 ? " and \(attributes.count - 5) more" : "")
            s.set(.drifted, .true, .driftDetected, shown, revision: s.lastAppliedRevision, now: now)
            s.drift = items.map { item in
                let id = item.resourceID.map { " (\($0))" } ?? ""
                return "\(item.key)\(id) \(item.attribute): \((item.expected ?? .null).description) → \((item.actual ?? .null).description)"
            }
            s.driftFingerprint = fingerprint
        }
        return changed
    }

    /// A step outcome in words.
    public static func describe(_ status: StepOutcome.Status) -> String {
        switch status {
        case .succeeded: return "succeeded"
        case let .failed(message, _, _): return message
        case .skipped(let s), .blocked(let s): return s
        case .notStarted: return "not started (shutting down)"
        }
    }
}
