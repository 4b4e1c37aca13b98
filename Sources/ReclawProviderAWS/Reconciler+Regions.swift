import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec
import ReclawState

/// Destroying a deployment, in every region it holds resources in, and emptying the regions a
/// deployment moved away from.
extension Reconciler {
    /// Every reclaw-owned deployment found in a region (for destroy and prune), without the slow
    /// attributes a deletion never needs.
    public func observe(region: String, roleArn: String?) async throws(AWSError) -> Observation {
        try await AWSObserver(client: client(roleArn: roleArn, region: region, planID: UUID().uuidString.lowercased()), region: region, parameterReadings: parameterReadings,
                        logger: logger).observe(everyProfile: true)
    }

    /// A plan that deletes everything of one deployment in `region`. With `keepGlobal`, the IAM
    /// role and instance profile stay: the deployment's resources in another region use them.
    /// `retiring` keeps the deployment's status once the region is empty.
    public func destroyPlan(deployment: String, region: String, roleArn: String?, revision: String, keepGlobal: Bool = false,
                            retiring: Bool = false) async throws(AWSError) -> PlannedDeployment {
        let planID = UUID().uuidString.lowercased()
        let acting = client(roleArn: roleArn, region: region, planID: planID)
        let all = try await AWSObserver(client: acting, region: region, context: AWSCallContext(deployment: deployment, planID: planID),
                                      parameterReadings: parameterReadings, logger: logger)
            .observe(everyProfile: true)
        if let error = all.failures[deployment] { throw error }
        var observed = all.deployments[deployment] ?? ObservedDeployment(deployment: deployment)
        if keepGlobal { observed.resources = observed.resources.filter { !(Components.kind(of: $0.key)?.isGlobal ?? false) } }
        let plan = Differ.destroy(observed, schema: AWSSchema(), region: region, revision: revision, id: planID)
        return PlannedDeployment(target: nil, desired: nil, observed: observed, plan: plan, client: acting, retiring: retiring)
    }

    /// The plans that delete a deployment in `regions` (every region its status records when nil),
    /// in order: the IAM role and instance profile go with the last one, and only when no other
    /// recorded region keeps resources that use them.
    public func destroyPlans(deployment: String, status: DeploymentStatus?, regions only: [String]?, roleArn: String?,
                             revision: String) async throws(AWSError) -> [PlannedDeployment] {
        let regions = only ?? status?.resourceRegions ?? []
        let remaining = Set(status?.resourceRegions ?? []).subtracting(regions)
        var plans: [PlannedDeployment] = []
        for (i, region) in regions.enumerated() {
            let keep = i < regions.count - 1 || !remaining.isEmpty
            plans.append(try await destroyPlan(deployment: deployment, region: region, roleArn: roleArn, revision: revision, keepGlobal: keep, retiring: keep))
        }
        return plans
    }

    /// Once the deployment is Ready in its spec's region, the regions it moved away from are
    /// emptied (but for the IAM role and instance profile the new region uses), each plan logged.
    /// Returns the outcomes of those deletions; a region that could not be emptied stays recorded.
    func retireOtherRegions(_ planned: PlannedDeployment, shouldStop: @escaping @Sendable () -> Bool) async throws(ApplyRecordError) -> [StepOutcome] {
        let name = planned.name
        let status: DeploymentStatus?
        do { status = try state.load(name) } catch {
            throw ApplyRecordError(deployment: name, reason: .stateUnavailable, message: "applied, but its state cannot be read (\(error))")
        }
        var outcomes: [StepOutcome] = []
        for region in status?.resourceRegions ?? [] where region != planned.plan.region {
            let retire: PlannedDeployment
            do {
                retire = try await destroyPlan(deployment: name, region: region, roleArn: planned.target?.spec.roleArn, revision: planned.plan.revision,
                                               keepGlobal: true, retiring: true)
            } catch {
                outcomes.append(StepOutcome(step: Step(key: "region", operation: .delete, resourceID: region, kind: .vpc),
                                            status: .failed(message: "cannot observe \(region) to empty it: \(error)", code: error.code, requestID: error.requestID)))
                continue
            }
            let record = PlanLog.record(retire.plan, heading: "emptying \(region): the deployment moved to \(planned.plan.region)",
                                        vocabulary: TerraformVocabulary(), reclawVersion: ReclawVersion.string, timestamp: now())
            logger.info(record.message, metadata: record.metadata)
            outcomes += try await apply(retire, recordPlan: true, shouldStop: shouldStop).outcomes
        }
        return outcomes
    }
}
