import Foundation
import ReclawAWS
import ReclawAudit
import ReclawEngine
import ReclawProviderAWS
import ReclawState

/// What the controller needs from a reconciler, and no more: plan deployments, apply a plan,
/// plan a deployment's destruction, find who made drift, and the local state it keeps statuses in.
/// It exists so the daemon's scheduling, backoff, status and drift handling can run over an
/// in-memory reconciler in tests; `reclaw run` gives it the AWS `Reconciler`.
public protocol DeploymentReconciler: Sendable {
    /// Where statuses, the verified revision and the attribution queue are kept.
    var state: StateStore { get }
    /// Writes the deployments' statuses and conditions (and tells their listeners).
    var recorder: StatusRecorder { get }

    /// Plans every target, one result per target. With `record` false no PlanComputed event is
    /// written (it is written when the plan is applied); with `warn` false a role planned without
    /// a permissions boundary is not warned about.
    func plan(_ targets: [ReconcileTarget], record: Bool, warn: Bool) async -> [Result<PlannedDeployment, PlanFailure>]

    /// Applies a plan and records its outcome in the deployment's status; `recordPlan` writes the
    /// PlanComputed event first. No new step starts once `shouldStop` is true.
    func apply(_ planned: PlannedDeployment, recordPlan: Bool, shouldStop: @escaping @Sendable () -> Bool) async throws(ApplyRecordError) -> ApplyResult

    /// The plans that delete a deployment in `regions` (every region its status records when nil).
    func destroyPlans(deployment: String, status: DeploymentStatus?, regions: [String]?, roleArn: String?,
                      revision: String) async throws(AWSError) -> [PlannedDeployment]

    /// Who changed drifted resources: one lookup the daemon shares, so its rate holds across lanes.
    func driftAuthors() -> any DriftAuthorLookup

    /// Forgets what is cached of these resources between observations, so the next check reads
    /// them: a change event named them.
    func invalidateSlowAttributes(resourceIDs: [String]) async
}

/// Finds who changed drifted resources outside reclaw (CloudTrail's write events, for AWS).
public protocol DriftAuthorLookup: Sendable {
    /// The changes since `since` to one of `targets` that reclaw did not make (`ownRequestIDs`);
    /// empty when none is known yet.
    func attribute(targets: [Authorship.Target], region: String, since: Date, ownRequestIDs: Set<String>,
                   now: Date) async throws(AWSError) -> [AuditEvent.Attribution]
}

extension DriftAttributor: DriftAuthorLookup {}

extension Reconciler: DeploymentReconciler {
    public func driftAuthors() -> any DriftAuthorLookup { DriftAttributor(client: client) }
}
