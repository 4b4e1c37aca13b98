import Foundation
import ReclawState

/// One truth for a deployment's conditions: whatever `StatusRecorder` writes to its status is what
/// `reclaw_deployment_condition` and /healthz say, with a stall the status could not record (its
/// state or its audit record unwritable) on top.
extension ReconcileDaemon {
    /// Starts following every status write of the reconciler's recorder.
    func followConditions() {
        reconciler.recorder.feed.listen { [weak self] status in self?.conditionsWritten(status) }
    }

    /// A status was written: its conditions become the deployment's, in the metrics and /healthz.
    func conditionsWritten(_ status: DeploymentStatus) {
        let name = status.deployment
        guard core.withLock({ c -> Bool in
            // A replica follows only the deployments it works on.
            guard leases == nil || c.owned.contains(name) else { return false }
            c.conditions[name] = status.conditions
            return true
        }) else { return }
        publishConditions(name)
    }

    /// Publishes a deployment's conditions as metrics: those last written, and a recorded-nowhere
    /// stall forcing Ready False and Stalled True. Nothing is published before either exists.
    func publishConditions(_ name: String) {
        let (written, stall) = core.withLock { ($0.conditions[name], $0.stalled[name]) }
        let stalled = stall.map { $0.reason != .notOwned } ?? false
        guard written != nil || stalled else { return }
        // SourceVerified exists only where signatures are verified, Drifted once a drift check ran.
        for type in ConditionType.allCases where (type != .sourceVerified && type != .drifted) || written?.contains(where: { $0.type == type }) == true {
            var status = written?.first { $0.type == type }?.status ?? .unknown
            if stalled && type == .stalled { status = .true }
            if stalled && type == .ready { status = .false }
            metrics.condition(deployment: name, type: type.rawValue, status: status.rawValue)
        }
    }

    /// Forgets a deployment's conditions and its series (it left the repository, was pruned, or
    /// moved to another replica).
    func forgetConditions(_ name: String) {
        _ = core.withLock { $0.conditions.removeValue(forKey: name) }
        metrics.forget(deployment: name)
    }
}
