import Foundation
import ReclawAlerts
import ReclawAudit
import ReclawController
import ReclawProviderAWS
import ReclawState

extension ReconcileDaemon {
    /// The drift checker the lanes share: one attributor, so CloudTrail's rate holds across them.
    var driftChecker: DriftChecker {
        let log = auditLog
        let clock = clock
        let retention = options.attributionSchedule.last.map { $0.inSeconds * 2 + 86400 } ?? 86400
        var checker = DriftChecker(reconciler: reconciler, attributor: attributor,
                                   ownRequestIDs: { log?.requestIDs(since: clock.date().addingTimeInterval(-retention)) ?? [] },
                                   now: { clock.date() })
        checker.onObserved = { [weak self] in self?.index(observed: $0) }
        return checker
    }

    /// Compares deployments with what was last applied to them (one batched observation per
    /// region). Under `policy.drift: correct` a drifted deployment is queued for a reconcile that
    /// undoes it; under `alert` the drift is recorded and alerted when it appears or changes. The
    /// policy is the spec's at the revision in force; a deployment whose status cannot be read is
    /// stalled, never checked with a guessed policy.
    func driftLane(_ names: [String]) async -> DriftLaneResult {
        var result = DriftLaneResult()
        var statuses: [DeploymentStatus] = []
        let started = clock.now()
        for name in names {
            if core.withLock({ $0.stalled[name] != nil }) {
                // A stalled deployment is checked again once its own reconcile works.
                result.outcomes[name] = .skipped
                continue
            }
            let status: DeploymentStatus?
            do { status = try reconciler.state.load(name) } catch {
                await stall(name, .stateUnavailable, "its status cannot be read: \(error)", revision: nil)
                result.outcomes[name] = .failed
                continue
            }
            guard let status, status.lastAppliedSpec != nil, status.holds(.ready) else {
                result.outcomes[name] = .skipped
                continue
            }
            index(status)
            statuses.append(status)
        }
        guard !statuses.isEmpty else { return result }
        let checks = await driftChecker.check(statuses)
        let seconds = (clock.now() - started).inSeconds / Double(statuses.count)
        for (status, check) in zip(statuses, checks) {
            let name = status.deployment
            switch check {
            case .failure(let f):
                metrics.reconciled(deployment: name, kind: "drift", result: .failure, seconds: seconds)
                if case .aws = f.cause {
                    logger.error("drift check failed", metadata: ["deployment": "\(name)", "aws.error_code": "\(LoggedText.bounded(f.code))",
                                                                     "error": "\(LoggedText.bounded(f.message, limit: 1024))"])
                } else {
                    await stall(name, f.reason, f.message, revision: status.lastAppliedRevision)
                }
                result.outcomes[name] = .failed
            case .success(nil):
                metrics.reconciled(deployment: name, kind: "drift", result: .success, seconds: seconds)
                metrics.drifted(deployment: name, resources: 0)
                do { try reconciler.recorder.inSync(name) } catch {
                    await stall(name, .stateUnavailable, "its state cannot be written: \(error)", revision: status.lastAppliedRevision)
                    result.outcomes[name] = .failed
                    continue
                }
                if status.driftFingerprint != nil || core.withLock({ $0.findings[name] != nil }) {
                    core.withLock { _ = $0.findings.removeValue(forKey: name) }
                    await emit(AuditEvent(type: .driftResolved, time: clock.date(), deployment: name, revision: status.lastAppliedRevision,
                                          awsRegion: status.region,
                                          message: "\(name): the drift is gone; AWS matches revision \(status.lastAppliedRevision ?? "?") again"),
                               alertKey: nil)
                }
                result.outcomes[name] = .clean
            case .success(let finding?):
                metrics.reconciled(deployment: name, kind: "drift", result: .success, seconds: seconds)
                result.findings.append(finding)
                result.outcomes[name] = await found(finding, status: status)
            }
        }
        await share(statuses.map(\.deployment))
        return result
    }

    /// Records drift, and either queues its correction or reports it under `policy.drift: alert`.
    private func found(_ finding: DriftFinding, status: DeploymentStatus) async -> DriftOutcome {
        var finding = finding
        let name = finding.deployment
        useNotices(&finding)
        metrics.drifted(deployment: name, resources: finding.items.count)
        let changed: Bool
        do {
            changed = try reconciler.recorder.drifted(name, items: finding.items, fingerprint: finding.fingerprint)
        } catch {
            await stall(name, .stateUnavailable, "its state cannot be written: \(error)", revision: status.lastAppliedRevision)
            return .failed
        }
        let policy = core.withLock { $0.source.specs[name]?.spec.policy.drift } ?? status.lastAppliedSpec!.policy.drift
        // A look-alike is reported, never corrected: reclaw does not delete what it did not record.
        if policy == .correct && finding.items.contains(where: { !$0.isLookAlike }) {
            logger.warning("drift: \(finding.summary); correcting it", metadata: ["deployment": "\(name)", "policy": "\(policy.rawValue)"])
            core.withLock { $0.findings[name] = finding }
            return .drifted(correct: true)
        }
        guard changed else {
            logger.debug("the same drift is still there, left alone under policy.drift: alert", metadata: ["deployment": "\(name)"])
            return .drifted(correct: false)
        }
        logger.warning("drift: \(finding.summary); left alone under policy.drift: alert", metadata: ["deployment": "\(name)", "policy": "\(policy.rawValue)"])
        let event = DriftChecker.event(finding, corrected: false, time: clock.date(), policy: policy)
        await emit(event, alertKey: nil, force: true)
        if finding.attributionStatus != "attributed" {
            await remember(finding, eventID: event.eventID, since: status.lastInSyncAt ?? status.lastAppliedAt ?? clock.date(), corrected: false)
        }
        return .drifted(correct: false)
    }

    /// A reconcile undid drift (a correction, or a new revision's apply): recorded as corrected,
    /// and attributed like any other drift. Only what the apply changed counts: an attribute that
    /// already had the new spec's value (applied by a replica that could not record it, say) was
    /// not corrected.
    func driftCorrected(_ p: PlannedDeployment, since: Date) async {
        let earlier = core.withLock { $0.findings.removeValue(forKey: p.name) }
        let changed = Set(p.plan.changes.map(\.key))
        let corrected = p.plan.drift.filter { changed.contains($0.key) }
        guard !corrected.isEmpty else { return }
        var finding = DriftFinding(deployment: p.name, region: p.plan.region, planned: p, items: corrected,
                                   attribution: earlier?.attribution ?? [], attributionStatus: earlier?.attributionStatus ?? "pending")
        useNotices(&finding)
        if finding.attributionStatus != "attributed" { await driftChecker.attribute(&finding, since: since) }
        let event = DriftChecker.event(finding, corrected: true, time: clock.date())
        await emit(event, alertKey: DriftAlertKey(finding).alertKey("corrected", deployment: p.name))
        if finding.attributionStatus != "attributed" { await remember(finding, eventID: event.eventID, since: since, corrected: true) }
    }

    /// Who made the drift, from CloudTrail's events when they reported it.
    func useNotices(_ finding: inout DriftFinding) {
        guard finding.attributionStatus != "attributed" else { return }
        let noticed = takeAttributions(finding.deployment, targets: DriftChecker.targets(finding.items))
        guard !noticed.isEmpty else { return }
        finding.attribution = Array(Set(noticed)).sorted { $0.eventTime < $1.eventTime }
        finding.attributionStatus = "attributed"
    }

    /// A drift correction did not converge: the drift stays on record and is alerted.
    func correctionFailed(_ name: String) async {
        guard let finding = core.withLock({ $0.findings.removeValue(forKey: name) }) else { return }
        await emit(DriftChecker.event(finding, corrected: false, time: clock.date(), policy: .correct), alertKey: DriftAlertKey(finding).alertKey("uncorrected", deployment: name))
    }
}
