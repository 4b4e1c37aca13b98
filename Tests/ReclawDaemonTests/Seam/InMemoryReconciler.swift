import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawEngine
import ReclawProviderAWS
import ReclawState
import ReclawTime

/// A reconciler over `InMemoryCloud` instead of AWS, for tests of the daemon's own logic
/// (scheduling, backoff, status, drift handling): plans are the engine's diff of a small desired
/// graph against what the cloud holds, applies run the engine's executor against it, and statuses
/// are recorded as the AWS reconciler records them. No emulator, no processes.
final class InMemoryReconciler: DeploymentReconciler {
    let cloud = InMemoryCloud()
    let state: StateStore
    let recorder: StatusRecorder
    let auditor: Auditor?
    let clock: any TimeSource
    /// Never used to call anything: a planned deployment carries the client its apply would use.
    private let unusedClient = AWSClient(credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "in-memory", secretAccessKey: "in-memory")))

    init(state: StateStore, auditor: Auditor?, clock: any TimeSource) {
        self.state = state
        self.auditor = auditor
        self.clock = clock
        recorder = StatusRecorder(store: state, now: { clock.date() })
    }

    func plan(_ targets: [ReconcileTarget], record: Bool, warn: Bool) async -> [Result<PlannedDeployment, PlanFailure>] {
        var out: [Result<PlannedDeployment, PlanFailure>] = []
        for target in targets {
            let name = target.spec.name
            cloud.record(.plan, name, at: clock.now())
            if cloud.takeFault(name, { if case .throttled = $0 { return true }; return false }) != nil {
                out.append(.failure(PlanFailure(deployment: name, error: Self.throttled(target.spec.region))))
                continue
            }
            let status: DeploymentStatus?
            do { status = try state.load(name) } catch {
                out.append(.failure(PlanFailure(deployment: name, cause: .state(error))))
                continue
            }
            let desired = InMemoryGraph.build(target.spec)
            let observed = Identity.resolve(cloud.resources(name), recorded: status?.resourceIDs ?? [:])
            let plan = Differ.plan(.init(schema: InMemorySchema(), desired: desired, observed: observed, allowReplace: target.spec.policy.allowReplace,
                                         lastApplied: status?.lastApplied, revision: target.revision))
            if record {
                do { try await auditor?.planComputed(plan) } catch {
                    out.append(.failure(PlanFailure(deployment: name, cause: .audit(error))))
                    continue
                }
            }
            out.append(.success(PlannedDeployment(target: target, desired: desired, observed: observed, plan: plan, client: unusedClient)))
        }
        return out
    }

    func apply(_ planned: PlannedDeployment, recordPlan: Bool, shouldStop: @escaping @Sendable () -> Bool) async throws(ApplyRecordError) -> ApplyResult {
        let plan = planned.plan
        let name = plan.deployment
        cloud.record(.apply, name, at: clock.now())
        try await ApplyRecordError.recordStart(of: plan, recordPlan: recordPlan, auditor: auditor, recorder: recorder)
        var failure: String?
        switch cloud.takeFault(name, { if case .throttled = $0 { return false }; return true }) {
        case .waits(let gate)?: await gate.wait()
        case .fails(let code)?: failure = code
        default: break
        }
        let recorder = recorder
        let record: @Sendable (ComponentKey, String) throws -> Void = { @Sendable key, id in
            try recorder.created(name, region: plan.region, key: key, id: id)
        }
        let driver = InMemoryDriver(cloud: cloud, failure: failure, recordCreated: planned.desired == nil ? nil : record)
        let result = await Executor(driver: driver, concurrency: 4, observer: auditor, shouldStop: shouldStop)
            .apply(plan, desired: planned.desired, observed: planned.observed)
        do {
            try recorder.applied(plan, result: result, desired: planned.desired, spec: planned.target?.spec, location: planned.target?.location?.description,
                                 retiring: planned.retiring)
        } catch {
            throw ApplyRecordError(deployment: name, reason: .stateUnavailable, message: "applied, but its state cannot be written (\(error))", result: result)
        }
        cloud.record(.applied, name, at: clock.now())
        return result
    }

    func destroyPlans(deployment: String, status: DeploymentStatus?, regions: [String]?, roleArn: String?,
                      revision: String) async throws(AWSError) -> [PlannedDeployment] {
        cloud.record(.destroy, deployment, at: clock.now())
        let observed = cloud.resources(deployment)
        return (regions ?? status?.resourceRegions ?? []).map { region in
            PlannedDeployment(target: nil, desired: nil, observed: observed,
                              plan: Differ.destroy(observed, schema: InMemorySchema(), region: region, revision: revision), client: unusedClient)
        }
    }

    /// Nobody is ever found: CloudTrail has not delivered yet.
    func driftAuthors() -> any DriftAuthorLookup { NoAuthors() }

    /// Nothing is kept between observations: every plan reads the cloud as it is.
    func invalidateSlowAttributes(resourceIDs: [String]) async {}

    static func throttled(_ region: String) -> AWSError {
        AWSError(kind: .service, code: "Throttling", message: "Rate exceeded", httpStatus: 400, service: "ec2", operation: "DescribeInstances",
                 region: region, requestID: "in-memory-throttled")
    }
}

/// Attribution that never finds an author.
struct NoAuthors: DriftAuthorLookup {
    func attribute(targets: [Authorship.Target], region: String, since: Date, ownRequestIDs: Set<String>,
                   now: Date) async throws(AWSError) -> [AuditEvent.Attribution] { [] }
}

/// Carries out steps against the in-memory cloud; with `failure`, every step fails with that code.
struct InMemoryDriver: ActionDriver {
    struct Failed: ReportableError, CustomStringConvertible {
        var errorCode: String
        var errorRequestID: String? { "in-memory-request" }
        var description: String { "\(errorCode): the in-memory cloud refused the step" }
    }

    let cloud: InMemoryCloud
    let failure: String?
    let recordCreated: (@Sendable (ComponentKey, String) throws -> Void)?

    func create(_ component: DesiredComponent, context: StepContext) async throws -> String {
        if let failure { throw Failed(errorCode: failure) }
        let id = cloud.create(context.deployment, component, ids: context.ids)
        try recordCreated?(component.key, id)
        return id
    }

    func update(_ component: DesiredComponent, current: ObservedResource, changes: [AttributeChange], context: StepContext) async throws {
        if let failure { throw Failed(errorCode: failure) }
        cloud.update(context.deployment, component, id: current.id, ids: context.ids)
    }

    func delete(_ resource: ObservedResource, context: StepContext) async throws {
        if let failure { throw Failed(errorCode: failure) }
        cloud.delete(context.deployment, id: resource.id)
    }
}
