import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec
import ReclawState
import Synchronization
import ReclawTime

/// Plans and applies deployments against AWS: batched observation per region and role, plans with
/// drift against the last applied state, applies through the executor, and records state and
/// audit events.
public final class Reconciler: Sendable {
    public let client: AWSClient
    public let state: StateStore
    public let journal: CreateJournal
    public let auditor: Auditor?
    public let logger: Logger
    public let concurrency: Int
    public let waiter: Waiter
    /// How long a rerun looks for the resource of a create that was in flight when reclaw stopped.
    public let interruptedCreateGrace: Duration
    /// Writes the deployments' statuses and conditions.
    public let recorder: StatusRecorder
    /// The wall clock (injected, so tests can move it).
    public let now: @Sendable () -> Date
    /// What the operator decides: the roles' permissions boundary, the cadence of slow reads.
    public let settings: ProviderSettings
    /// The VPCs' DNS attributes between observations (see `invalidateSlowAttributes`).
    public let slowAttributes: SlowAttributeCache
    /// The String parameters' values as last read, with the version each was read at.
    public let parameterReadings: ParameterReadings
    private let accounts: AccountCache
    private let imageCache: ImageCache
    private let batcher = ObservationBatcher()
    /// How long a plan waits for others to share its region's observation.
    public let observationWindow: Duration
    /// Deployments already warned about a role planned without a permissions boundary.
    private let unboundedRoleWarnings = Mutex<Set<String>>([])

    /// `waiter` defaults to polling with the client's deadlines (`RetryPolicy.deadlines`), so one
    /// `TransientDeadlines` governs every wait.
    public init(client: AWSClient, state: StateStore, auditor: Auditor?, logger: Logger, concurrency: Int = 8, waiter: Waiter? = nil,
                interruptedCreateGrace: Duration = .seconds(15), settings: ProviderSettings = ProviderSettings(),
                observationWindow: Duration = .milliseconds(100),
                now: @escaping @Sendable () -> Date = { Clocks.date() }) {
        self.settings = settings
        self.slowAttributes = SlowAttributeCache(maxAge: settings.slowReadInterval, readsPerObservation: settings.slowReadsPerObservation, path: state.directory + "/slow-attributes.json", logger: logger, now: now)
        self.parameterReadings = ParameterReadings(path: state.directory + "/parameter-readings.json", logger: logger, now: now)
        accounts = AccountCache(path: state.directory + "/accounts.json", logger: logger)
        imageCache = ImageCache(path: state.directory + "/images.json", logger: logger, now: now)
        self.interruptedCreateGrace = interruptedCreateGrace
        self.observationWindow = observationWindow
        self.now = now
        recorder = StatusRecorder(store: state, now: now)
        self.client = client
        self.state = state
        self.journal = CreateJournal(stateDirectory: state.directory, changes: state.changes)
        self.auditor = auditor
        self.logger = logger
        self.concurrency = concurrency
        self.waiter = waiter ?? Waiter(deadlines: client.retryPolicy.deadlines ?? TransientDeadlines())
    }

    /// The client for a deployment: the default credentials, or its role assumed with a session
    /// named after the plan and SourceIdentity `reclaw`, so CloudTrail shows who acted and why.
    public func client(roleArn: String?, region: String, planID: String) -> AWSClient {
        guard let roleArn else { return client }
        let base = client
        let session = "reclaw-\(planID.prefix(8))"
        // A role made moments ago is refused (AccessDenied) until IAM has propagated it.
        let patient = waiter.reporting(to: WaitReporter(deployment: nil, planID: planID, logger: logger))
        return client.with(credentials: CachedCredentialProvider(name: "role \(roleArn)") { () async throws(AWSError) -> AWSCredentials in
            try await patient.retrying("role \(roleArn) to be assumable (IAM propagation)", on: ["AccessDenied"], deadline: patient.deadlines.iamPropagation) {
                () async throws(AWSError) -> AWSCredentials in
                try await STS(client: base, region: region).assumeRole(roleArn: roleArn, sessionName: session, sourceIdentity: "reclaw",
                                                                       context: AWSCallContext(planID: planID))
            }
        })
    }

    struct GroupKey: Hashable {
        var region: String
        var roleArn: String?
    }

    /// Plans every target. One observation per region and role covers all of them. With `record`
    /// false (drift checks) no PlanComputed event is written; it is written when the plan is applied.
    /// With `warn` false (posture, which reports it itself) a role planned without a boundary is not warned about.
    public func plan(_ targets: [ReconcileTarget], record: Bool = true, warn: Bool = true) async -> [Result<PlannedDeployment, PlanFailure>] {
        let planIDs = Dictionary(uniqueKeysWithValues: targets.map { ($0.spec.name, UUID().uuidString.lowercased()) })
        let groups = Dictionary(grouping: targets) { GroupKey(region: $0.spec.region, roleArn: $0.spec.roleArn) }
        var results: [String: Result<PlannedDeployment, PlanFailure>] = [:]
        await withTaskGroup(of: [(String, Result<PlannedDeployment, PlanFailure>)].self) { group in
            for (key, members) in groups {
                group.addTask { await self.plan(group: key, members, planIDs: planIDs, record: record, warn: warn) }
            }
            for await batch in group { for (name, r) in batch { results[name] = r } }
        }
        return targets.compactMap { results[$0.spec.name] }
    }

    /// Forgets the slow attributes of these resources (VPC ids; others are ignored), so the next
    /// observation reads them again instead of waiting for `settings.slowReadInterval`: for a
    /// CloudTrail event that says someone changed them.
    public func invalidateSlowAttributes(resourceIDs: [String]) async {
        await slowAttributes.invalidate(resourceIDs: resourceIDs)
    }

    private func plan(group key: GroupKey, _ members: [ReconcileTarget], planIDs: [String: String], record: Bool, warn: Bool) async -> [(String, Result<PlannedDeployment, PlanFailure>)] {
        let first = planIDs[members[0].spec.name]!
        let groupClient = client(roleArn: key.roleArn, region: key.region, planID: first)
        let observation: Observation
        let journalFailures: [String: StateError]
        let interrupted: [String: Set<ComponentKey>]
        let facts: DeploymentFacts
        let images: [String: EC2.Image]
        // A group of one names its deployment in every call (and so in CloudTrail's userAgent).
        let context = AWSCallContext(deployment: members.count == 1 ? members[0].spec.name : nil, planID: first)
        // Observation reads the image references with the deployments' parameters; the AMIs behind
        // them are described once per process (an AMI id's image never changes).
        let resolver = ImageResolver(client: groupClient, region: key.region, context: context, cache: imageCache)
        let references = Set(members.map(\.spec.instance.image))
        let request = ObservationBatcher.Request(imageAliases: references, deployments: Set(members.map(\.spec.name)))
        do {
            // Plans asked for within a short window share one observation of the region.
            async let seen = batcher.observe(.init(region: key.region, roleArn: key.roleArn), request, window: observationWindow) {
                [slowAttributes, parameterReadings, concurrency, logger] request async throws(AWSError) -> Observation in
                let shared = AWSCallContext(deployment: request.deployments.count == 1 ? request.deployments.first : nil, planID: first)
                return try await AWSObserver(client: groupClient, region: key.region, context: shared, slowAttributes: slowAttributes,
                                             parameterReadings: parameterReadings, readConcurrency: concurrency, logger: logger).observe(imageAliases: request.imageAliases, only: request.deployments)
            }
            async let account = accounts.account(roleArn: key.roleArn, client: groupClient, region: key.region)
            (observation, journalFailures, interrupted) = try await settle(members, observed: try await seen, client: groupClient, region: key.region, planID: first)
            facts = DeploymentFacts(accountID: try await account, partition: Partition(region: key.region).name,
                                    permissionsBoundary: settings.permissionsBoundary)
            let aliases = observation.imageAliases
            images = await withTaskGroup(of: (String, EC2.Image?).self) { group in
                // An image that cannot be resolved now does not block drift (it is create-only); a
                // launch resolves it again and fails there with AWS's error.
                for reference in references { group.addTask { (reference, try? await resolver.resolve(reference, aliases: aliases)) } }
                var out: [String: EC2.Image] = [:]
                for await (reference, image) in group { if let image { out[reference] = image } }
                return out
            }
        } catch {
            let error = error as? AWSError ?? AWSError(kind: .transport, code: "Error", message: "\(error)", service: "reclaw", operation: "observe", region: key.region)
            // Reported once per deployment by the caller (the failures returned); here only for debugging.
            logger.debug("cannot observe \(key.region)", metadata: ["aws.error_code": "\(error.code)", "error": "\(error)"])
            return members.map { ($0.spec.name, .failure(PlanFailure(deployment: $0.spec.name, error: error))) }
        }
        // A read that failed for one deployment's resource fails that deployment alone; one for a
        // deployment outside this group (or none) was the concern of nobody planned here.
        let names = Set(members.map(\.spec.name))
        for (name, error) in observation.failures where !names.contains(name) {
            logger.info("a read failed for a deployment not planned here; ignored", metadata: ["deployment": "\(name)", "aws.error_code": "\(error.code)"])
        }
        var out: [(String, Result<PlannedDeployment, PlanFailure>)] = []
        for target in members {
            let name = target.spec.name
            if let error = observation.failures[name] {
                logger.debug("cannot observe \(name)", metadata: ["deployment": "\(name)", "aws.error_code": "\(error.code)", "error": "\(error)"])
                out.append((name, .failure(PlanFailure(deployment: name, error: error))))
                continue
            }
            if let failure = journalFailures[name] {
                out.append((name, .failure(PlanFailure(deployment: name, cause: .state(failure)))))
                continue
            }
            var desired = DesiredGraphBuilder.build(target.spec, facts: facts)
            if let image = images[target.spec.instance.image] { desired = ImageResolver.recording(image, in: desired) }
            let status: DeploymentStatus?
            do {
                status = try state.load(name)
            } catch {
                out.append((name, .failure(PlanFailure(deployment: name, cause: .state(error)))))
                continue
            }
            let last = status?.lastApplied
            // Tags found the candidates; the recorded ids say which are reclaw's. A recorded
            // resource the listing did not return is read by its own id before it counts as gone.
            var found = observation.deployments[name] ?? ObservedDeployment(deployment: name)
            if status?.region == target.spec.region {
                do {
                    for r in try await recordedButUnlisted(status?.resourceIDs ?? [:], in: found, client: groupClient, region: key.region, context: context) {
                        found.add(r)
                    }
                } catch {
                    out.append((name, .failure(PlanFailure(deployment: name, error: error))))
                    continue
                }
            }
            let current = Identity.resolve(found, recorded: status?.resourceIDs ?? [:], interrupted: interrupted[name] ?? [])
            for a in current.lookAlikeList {
                logger.warning("a look-alike carries this deployment's tags; reclaw neither uses nor deletes it",
                               metadata: ["deployment": "\(name)", "component": "\(a.key)", "resource": "\(a.resourceID)", "recorded": "\(a.recordedID ?? "none")"])
            }
            let plan = Differ.plan(.init(schema: AWSSchema(), desired: desired, observed: current, allowReplace: target.spec.policy.allowReplace,
                                         lastApplied: last, revision: target.revision,
                                         otherRegions: status?.resourceRegions.filter { $0 != target.spec.region } ?? []), id: planIDs[name])
            if warn { warnIfUnbounded(plan) }
            // A plan that changes a resource is followed by a fresh read of its slow attributes,
            // applied or not: what the cache holds is about to be (or already is) wrong. A new
            // instance profile has a known name: one made before under it is no guide.
            let changing = plan.actions.filter { $0.kind != .noop }
            let stale = changing.compactMap(\.resourceID) + changing.compactMap { desired[$0.key]?.name }
            if !stale.isEmpty { await slowAttributes.invalidate(resourceIDs: stale) }
            if record {
                do { try await auditor?.planComputed(plan) } catch {
                    out.append((name, .failure(PlanFailure(deployment: name, cause: .audit(error)))))
                    continue
                }
            }
            out.append((name, .success(PlannedDeployment(target: target, desired: desired, observed: current, plan: plan,
                                                         client: client(roleArn: target.spec.roleArn, region: target.spec.region, planID: plan.id)))))
        }
        return out
    }

    /// Warns, once per deployment and process, when a plan would create the instance role and the
    /// operator set no permissions boundary: the shipped IAM policy refuses that create.
    private func warnIfUnbounded(_ plan: Plan) {
        guard settings.permissionsBoundary == nil,
              plan.actions.contains(where: { $0.key == Components.role && ($0.kind == .create || $0.kind == .replace) }),
              unboundedRoleWarnings.withLock({ $0.insert(plan.deployment).inserted }) else { return }
        logger.warning("the plan creates an IAM role without a permissions boundary, which the shipped IAM policy refuses; pass --permissions-boundary ARN (or set RECLAW_PERMISSIONS_BOUNDARY)",
                       metadata: ["deployment": "\(plan.deployment)", "component": "\(Components.role)"])
    }

    /// Applies a plan and records the outcome in the deployment's status. `recordPlan` writes the
    /// PlanComputed event first, for plans computed without one (drift corrections, destroys).
    /// Nothing is applied when the status or the audit log cannot take the apply's start; an apply
    /// whose outcome cannot be recorded throws with what happened in AWS.
    public func apply(_ planned: PlannedDeployment, recordPlan: Bool = false,
                      shouldStop: @escaping @Sendable () -> Bool = { false }) async throws(ApplyRecordError) -> ApplyResult {
        let plan = planned.plan
        let name = plan.deployment
        try await ApplyRecordError.recordStart(of: plan, recordPlan: recordPlan, auditor: auditor, recorder: recorder)
        for action in plan.blocked {
            do {
                try await auditor?.emit(AuditEvent(type: .actionFailed, deployment: name, revision: plan.revision, planID: plan.id, awsRegion: plan.region,
                                                   errorCode: "Blocked", errorMessage: action.blocked,
                                                   resources: action.resourceID.map { [.init(type: action.resourceKind.typeName, name: $0)] } ?? [],
                                                   message: "\(name): \(action.kind.rawValue) \(action.key) blocked: \(action.blocked ?? "")"))
            } catch {
                throw ApplyRecordError(deployment: name, reason: .auditUnavailable, message: "not applied: the audit log cannot record it (\(error))")
            }
        }
        // What the apply waits for shows in its Reconciling condition and the log.
        let waits = WaitReporter(deployment: name, planID: plan.id, logger: logger) { [recorder] message in
            if let message { try recorder.waiting(name, revision: plan.revision, message: message) } else { try recorder.applyingAgain(plan) }
        }
        let recorder = recorder
        let record: @Sendable (ComponentKey, String) throws -> Void = { @Sendable key, id in
            try recorder.created(name, region: plan.region, key: key, id: id)
        }
        let driver = AWSDriver(client: planned.client.reporting(to: waits), journal: journal, waiter: waiter.reporting(to: waits), logger: logger,
                               recordCreated: planned.desired == nil ? nil : record, slowAttributes: slowAttributes,
                               parameterReadings: parameterReadings)
        let executor = Executor(driver: driver, concurrency: concurrency, observer: auditor, shouldStop: shouldStop)
        var result = await executor.apply(plan, desired: planned.desired, observed: planned.observed)
        do {
            try recorder.applied(plan, result: result, desired: planned.desired, spec: planned.target?.spec, location: planned.target?.location?.description,
                                 retiring: planned.retiring)
        } catch {
            throw ApplyRecordError(deployment: name, reason: .stateUnavailable, message: "applied, but its state cannot be written (\(error))", result: result)
        }
        if result.converged && planned.desired != nil {
            let retired = try await retireOtherRegions(planned, shouldStop: shouldStop)
            if retired.contains(where: { !$0.succeeded }) {
                result.outcomes += retired
                do { try recorder.applied(plan, result: result, desired: planned.desired, spec: planned.target?.spec, location: nil) } catch {
                    throw ApplyRecordError(deployment: name, reason: .stateUnavailable, message: "applied, but its state cannot be written (\(error))", result: result)
                }
            } else {
                result.outcomes += retired
            }
        }
        return result
    }

    /// A step outcome in words.
    public static func describe(_ status: StepOutcome.Status) -> String { StatusRecorder.describe(status) }
}
