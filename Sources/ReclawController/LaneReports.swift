import ReclawEngine
import ReclawProviderAWS

/// What a drift check of several deployments found.
package struct DriftLaneResult: Sendable {
    package var outcomes: [String: DriftOutcome] = [:]
    package var findings: [DriftFinding] = []

    package init() {}
}

/// What a batch of reconciles did, for `sourcePass`'s report.
package struct ReconcileReport: Sendable {
    package var applied: [String: ApplyResult] = [:]
    package var failures: [String] = []
    package var pruned: [String] = []
    /// Deployments whose plan the policy command refused.
    package var policyDenied: [String] = []

    package init() {}
}
