import Foundation
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawController
import ReclawEngine
import ReclawProviderAWS
import ReclawState

extension ReconcileDaemon {
    /// Plans the items together (one batched observation per region and role), then applies each
    /// deployment on its own: `done` is called as each one ends, so a slow apply holds up only its
    /// own deployment.
    func reconcileLane(_ items: [ReconcileItem], done: @escaping @Sendable (String, ReconcileOutcome) -> Void) async -> ReconcileReport {
        var report = ReconcileReport()
        let specs = core.withLock { $0.source.specs }
        let revision = revision ?? "unknown"
        var targets: [(ReconcileTarget, Set<WorkReason>)] = []
        var prunes: [String] = []
        for item in items {
            if item.reasons.contains(.prune) {
                prunes.append(item.name)
            } else if let loaded = specs[item.name] {
                if item.reasons == [.driftCorrection], loaded.spec.policy.drift == .alert {
                    done(item.name, .converged)  // the policy changed to alert since the drift was found
                    continue
                }
                targets.append((ReconcileTarget(spec: loaded.spec, revision: revision, location: loaded.location), item.reasons))
            } else {
                done(item.name, .stalled)  // invalid or gone: nothing to apply
            }
        }
        let reasons = Dictionary(targets.map { ($0.0.spec.name, $0.1) }, uniquingKeysWith: { a, _ in a })
        let byName = Dictionary(targets.map { ($0.0.spec.name, $0.0) }, uniquingKeysWith: { a, _ in a })
        let planned = targets.isEmpty ? [] : await reconciler.plan(targets.map(\.0), record: false, warn: true)
        let pruning = prunes
        var denied: [String] = []
        await withTaskGroup(of: (String, ApplyResult?, ReconcileOutcome, Bool).self) { group in
            for result in planned {
                group.addTask {
                    switch result {
                    case .failure(let f):
                        await self.planFailed(f, revision: revision, target: byName[f.deployment])
                        await self.share([f.deployment])
                        done(f.deployment, .failed)
                        return (f.deployment, nil, .failed, false)
                    case .success(let p):
                        let (outcome, applied) = await self.applyPlanned(p, reasons: reasons[p.name] ?? [])
                        await self.share([p.name])
                        done(p.name, outcome)
                        return (p.name, applied, outcome, false)
                    }
                }
            }
            for name in pruning {
                group.addTask {
                    let (outcome, pruned) = await self.prune(name, revision: revision)
                    await self.share([name])
                    if pruned { _ = self.core.withLock { $0.prunable.remove(name) } }
                    done(name, outcome)
                    return (name, nil, outcome, pruned)
                }
            }
            for await (name, applied, outcome, pruned) in group {
                if let applied { report.applied[name] = applied }
                if outcome == .failed && !pruning.contains(name) { report.failures.append(name) }
                if pruned { report.pruned.append(name) }
                if outcome == .stalled && applied == nil && !pruning.contains(name) { denied.append(name) }
            }
        }
        report.policyDenied = denied.sorted()
        report.failures.sort()
        report.pruned.sort()
        return report
    }

    /// Logs and applies one deployment's plan; returns its outcome and, when it had changes, the
    /// apply's result.
    private func applyPlanned(_ p: PlannedDeployment, reasons: Set<WorkReason>) async -> (ReconcileOutcome, ApplyResult?) {
        let name = p.name
        let started = clock.now()
        index(observed: p.observed)
        let before: DeploymentStatus?
        do { before = try reconciler.state.load(name) } catch {
            await stall(name, .stateUnavailable, "its status cannot be read: \(error)", revision: p.plan.revision)
            metrics.reconciled(deployment: name, kind: "apply", result: .failure, seconds: (clock.now() - started).inSeconds)
            return (.failed, nil)
        }
        // When AWS was last known to match: where a search for who drifted it starts.
        let since = before?.lastInSyncAt ?? before?.lastAppliedAt ?? clock.date().addingTimeInterval(-3600)
        if p.plan.hasChanges {
            let record = PlanLog.record(p.plan, vocabulary: TerraformVocabulary(), reclawVersion: ReclawVersion.string, timestamp: clock.date())
            logger.info(record.message, metadata: record.metadata)
        }
        if p.plan.hasChanges, let gate = options.policy, !(await policyAllows(p, gate: gate, reasons: reasons)) {
            metrics.reconciled(deployment: name, kind: "apply", result: .failure, seconds: (clock.now() - started).inSeconds)
            return (.stalled, nil)
        }
        let result: ApplyResult
        do {
            result = try await reconciler.apply(p, recordPlan: p.plan.hasChanges, shouldStop: { [weak self] in self?.isShuttingDown ?? true })
        } catch {
            await stall(name, error.reason, error.message, revision: p.plan.revision)
            metrics.reconciled(deployment: name, kind: "apply", result: .failure, seconds: (clock.now() - started).inSeconds)
            return (.failed, error.result)
        }
        let seconds = (clock.now() - started).inSeconds
        if result.converged {
            unstall(name)
            await signerAfterApply(name)
            // The event index only speeds drift up; a status that cannot be read here is stalled by
            // the next pass that needs it, and polling still checks this deployment meanwhile.
            if let status = try? reconciler.state.load(name) { index(status) }
            metrics.succeeded(deployment: name, at: clock.date())
            metrics.reconciled(deployment: name, kind: "apply", result: .success, seconds: seconds)
            if p.plan.hasChanges {
                logger.info("applied", metadata: ["deployment": "\(name)", "plan.id": "\(p.plan.id)", "steps": "\(result.outcomes.count)"])
            }
            if !p.plan.drift.isEmpty { await driftCorrected(p, since: since) }
            return (.converged, p.plan.hasChanges ? result : nil)
        }
        if isShuttingDown, result.problems.allSatisfy({ if case .notStarted = $0.status { return true }; return false }) {
            metrics.reconciled(deployment: name, kind: "apply", result: .requeue, seconds: seconds)
            return (.failed, result)
        }
        let blocked = result.problems.contains { if case .blocked = $0.status { return true }; return false }
        metrics.reconciled(deployment: name, kind: "apply", result: .failure, seconds: seconds)
        if reasons.contains(.driftCorrection) { await correctionFailed(name) }
        if let failure = result.recordFailure {
            await stall(name, .auditUnavailable, "the audit log cannot record the apply: \(failure)", revision: p.plan.revision)
            return (.failed, result)
        }
        let problem = blocked ? result.problems.first { if case .blocked = $0.status { return true }; return false }
            : result.problems.first { if case .failed = $0.status { return true }; return false } ?? result.problems.first
        let code: String = {
            if case let .failed(_, code?, _) = problem?.status { return code }
            return blocked ? StatusRecorder.blockReason(p.plan).rawValue : "ApplyFailed"
        }()
        let requestID: String? = { if case let .failed(_, _, id) = problem?.status { return id }; return nil }()
        let message = problem.map { "\($0.step): \(StatusRecorder.describe($0.status))" } ?? "not converged"
        let failures = core.withLock { $0.scheduler.failures(name) } + 1
        await failed(name, code: code, message: blocked ? message : "\(message) (attempt \(failures); retrying with backoff)",
                     requestID: requestID, revision: p.plan.revision)
        return (blocked ? .stalled : .failed, result)
    }

    /// A deployment that could not be planned: its status says why, and the failure is reported once.
    private func planFailed(_ f: PlanFailure, revision: String, target: ReconcileTarget?) async {
        metrics.reconciled(deployment: f.deployment, kind: "apply", result: .failure, seconds: 0)
        if case .aws = f.cause {
            do {
                try reconciler.recorder.planFailed(f.deployment, revision: revision, region: target?.spec.region,
                                                   location: target?.location?.description, message: f.message)
            } catch {
                await stall(f.deployment, .stateUnavailable, "its state cannot be written: \(error)", revision: revision)
                return
            }
            await failed(f.deployment, code: f.code, message: f.message, requestID: f.requestID, revision: revision)
        } else {
            await stall(f.deployment, f.reason, f.message, revision: revision)
        }
    }

    /// Reports a failed reconcile: logged every time, recorded and alerted once per error code and window.
    func failed(_ name: String, code: String, message: String, requestID: String?, revision: String?) async {
        logger.error("reconcile failed", metadata: ["deployment": "\(name)", "aws.error_code": "\(code)", "error": "\(message)"])
        let key = "failed/\(name)/\(code)"
        let now = clock.now()
        guard core.withLock({ $0.alerts.shouldSend(key, now: now) }) else { return }
        await emit(AuditEvent(type: .reconcileFailed, time: clock.date(), deployment: name, revision: revision, requestID: requestID,
                              errorCode: code, errorMessage: message, message: "\(name): \(message)"), alertKey: nil, force: true)
    }

    /// Destroys a deployment whose spec left the repository.
    private func prune(_ name: String, revision: String) async -> (ReconcileOutcome, Bool) {
        let found: DeploymentStatus?
        do { found = try reconciler.state.load(name) } catch {
            await stall(name, .stateUnavailable, "its status cannot be read: \(error)", revision: revision)
            return (.failed, false)
        }
        guard let status = found, !status.resourceRegions.isEmpty else { return (.converged, false) }
        // Every region the deployment holds resources in, the IAM role and instance profile last.
        let plans: [PlannedDeployment]
        do {
            plans = try await reconciler.destroyPlans(deployment: name, status: status, regions: nil, roleArn: status.lastAppliedSpec?.roleArn, revision: revision)
        } catch {
            await failed(name, code: error.code, message: "cannot prune: \(error)", requestID: error.requestID, revision: revision)
            return (.failed, false)
        }
        for planned in plans {
            let record = PlanLog.record(planned.plan, heading: "pruning: the spec left the repository", vocabulary: TerraformVocabulary(), reclawVersion: ReclawVersion.string,
                                        timestamp: clock.date())
            logger.info(record.message, metadata: record.metadata)
            let result: ApplyResult
            do {
                result = try await reconciler.apply(planned, recordPlan: true, shouldStop: { [weak self] in self?.isShuttingDown ?? true })
            } catch {
                await stall(name, error.reason, error.message, revision: revision)
                return (.failed, false)
            }
            guard result.converged else {
                let problem = result.problems.first.map { "\($0.step): \(StatusRecorder.describe($0.status))" } ?? "not converged"
                await failed(name, code: "PruneFailed", message: "cannot prune: \(problem)", requestID: nil, revision: revision)
                return (.failed, false)
            }
        }
        forgetConditions(name)
        return (.converged, true)
    }
}
