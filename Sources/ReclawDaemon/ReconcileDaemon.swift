import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawEngine
import ReclawProviderAWS
import ReclawSpec
import ReclawState
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The GitOps daemon: a level-based loop that fetches the source, plans and applies what changed,
/// checks every deployment for drift on its own schedule, corrects or alerts, and keeps each
/// deployment's status. Tests drive it with `trigger` or call its passes directly.
public final class ReconcileDaemon: Service, Sendable {
    public let source: SpecSource
    public let reconciler: Reconciler
    public let auditor: Auditor
    public let auditLog: AuditLog?
    public let notifier: AlertNotifier?
    public let metrics: Metrics
    public let options: DaemonOptions
    let logger: Logger

    struct Memory {
        var lastRevision: String?
        var lastGood: SourceSnapshot?
        var sourceFailures = 0
        var nextFetch: ContinuousClock.Instant?
        var backoff: [String: (failures: Int, notBefore: ContinuousClock.Instant)] = [:]
        var driftAlerted: [String: (fingerprint: String, at: ContinuousClock.Instant)] = [:]
        var alertedAt: [String: ContinuousClock.Instant] = [:]
        var pending: [PendingAttribution] = []
        var shuttingDown = false
    }

    private let memory = Mutex(Memory())
    private let triggers: AsyncStream<DaemonTrigger>
    private let continuation: AsyncStream<DaemonTrigger>.Continuation

    public init(source: SpecSource, reconciler: Reconciler, auditor: Auditor, auditLog: AuditLog?, notifier: AlertNotifier?,
                metrics: Metrics, options: DaemonOptions, logger: Logger) {
        self.source = source
        self.reconciler = reconciler
        self.auditor = auditor
        self.auditLog = auditLog
        self.notifier = notifier
        self.metrics = metrics
        self.options = options
        self.logger = logger
        (triggers, continuation) = AsyncStream.makeStream(of: DaemonTrigger.self, bufferingPolicy: .bufferingNewest(32))
    }

    /// Wakes the loop (a push notification, SIGHUP, or a test).
    public func trigger(_ t: DaemonTrigger) { continuation.yield(t) }

    public var isShuttingDown: Bool { memory.withLock { $0.shuttingDown } }

    /// The revision currently in force (the last one fetched and read).
    public var revision: String? { memory.withLock { $0.lastRevision } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.every(self.options.interval, jitter: 0.1, .fetch("interval")) }
                group.addTask { await self.every(self.options.driftInterval, jitter: 0, .drift) }
                group.addTask { await self.every(self.options.attributionInterval, jitter: 0, .attribution) }
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) { self.trigger(.fetch("SIGHUP")) }
                }
                self.trigger(.fetch("start"))
                for await t in self.triggers {
                    if self.isShuttingDown { break }
                    switch t {
                    case .fetch(let why):
                        // After a failed fetch, the interval backs off; a push or SIGHUP still fetches at once.
                        if why == "interval", let next = memory.withLock({ $0.nextFetch }), next > .now { continue }
                        logger.debug("fetching the source", metadata: ["trigger": "\(why)"])
                        _ = await self.sourcePass()
                    case .drift:
                        _ = await self.driftPass()
                    case .attribution:
                        await self.attributionPass()
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.memory.withLock { $0.shuttingDown = true }
            self.logger.info("shutting down: finishing the AWS calls in flight, starting no new ones")
            self.continuation.finish()
        }
        notifier?.finish()
    }

    private func every(_ interval: Duration, jitter: Double, _ t: DaemonTrigger) async {
        while !Task.isCancelled {
            let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter)) : 1
            do { try await Task.sleep(for: interval * factor) } catch { return }
            trigger(t)
        }
    }

    // MARK: the source pass

    /// Fetches the source and reconciles the deployments whose spec is new, changed, or not yet converged.
    public func sourcePass() async -> PassReport {
        var report = PassReport()
        let snapshot: SourceSnapshot
        do {
            snapshot = try await source.snapshot()
        } catch {
            let failures = memory.withLock { m -> Int in
                m.sourceFailures += 1
                m.nextFetch = .now + min(options.interval * Double(1 << min(m.sourceFailures, 5)), .seconds(900))
                return m.sourceFailures
            }
            metrics.sourceFetched(succeeded: false, at: Date())
            report.sourceError = error.message
            report.revision = revision
            logger.error("the source cannot be read; the last good revision stays in force",
                         metadata: ["revision": "\(revision ?? "none")", "failures": "\(failures)", "error": "\(error.message)"])
            await emit(AuditEvent(type: .sourceFailed, revision: revision, errorCode: "SourceUnavailable", errorMessage: error.message,
                                  message: "the source \(source.location) cannot be read (\(failures) in a row); revision \(revision ?? "none") stays in force"),
                       alertKey: "source")
            return report
        }
        metrics.sourceFetched(succeeded: true, at: Date())
        let previous = memory.withLock { m -> String? in
            defer {
                m.lastRevision = snapshot.revision
                m.lastGood = snapshot
                m.sourceFailures = 0
                m.nextFetch = nil
            }
            return m.lastRevision
        }
        report.revision = snapshot.revision
        if previous != snapshot.revision {
            logger.info("new revision", metadata: ["revision": "\(snapshot.revision)", "previous": "\(previous ?? "none")"])
            await auditor.emit(AuditEvent(type: .sourceUpdated, revision: snapshot.revision,
                                          message: "source \(source.location) at \(snapshot.revision) (was \(previous ?? "none"))"))
        }
        let load = SpecLoader().load(snapshot.files)
        for d in load.diagnostics where d.severity == .error && load.filesWithErrors.contains(d.file) {
            logger.error("\(d.description)")
        }
        for (name, diagnostics) in load.invalidDeployments.sorted(by: { $0.key < $1.key }) {
            report.invalid.append(name)
            let text = diagnostics.map(\.description).joined(separator: "; ")
            logger.error("invalid spec: the deployment is left exactly as it was", metadata: ["deployment": "\(name)", "errors": "\(text)"])
            _ = try? reconciler.state.update(name) { s in
                s.lastAttemptedRevision = snapshot.revision
                s.set("Ready", false, reason: "InvalidSpec", message: text)
                s.set("Stalled", true, reason: "InvalidSpec", message: "fix the spec; the deployment is left as it was")
            }
            await emit(AuditEvent(type: .reconcileFailed, deployment: name, revision: snapshot.revision, errorCode: "InvalidSpec",
                                  errorMessage: text, message: "\(name): the spec at \(snapshot.revision) is invalid: \(text)"),
                       alertKey: "invalid/\(name)/\(snapshot.revision)")
        }
        let statuses = Dictionary(((try? reconciler.state.all()) ?? []).map { ($0.deployment, $0) }, uniquingKeysWith: { a, _ in a })
        let now = ContinuousClock.now
        var targets: [ReconcileTarget] = []
        for loaded in load.deployments {
            let name = loaded.spec.name
            let status = statuses[name]
            let converged = status?.condition("Ready")?.status == true && status?.lastAppliedSpec == loaded.spec
            if converged {
                // Same spec, already applied: this revision is in force without touching AWS.
                if status?.lastAppliedRevision != snapshot.revision {
                    _ = try? reconciler.state.update(name) { s in
                        s.lastAppliedRevision = snapshot.revision
                        s.lastAttemptedRevision = snapshot.revision
                        s.set("Ready", true, reason: "ReconciliationSucceeded", message: "applied revision \(snapshot.revision)")
                    }
                }
                continue
            }
            if let backoff = memory.withLock({ $0.backoff[name] }), backoff.notBefore > now, status?.lastAppliedSpec == loaded.spec {
                continue
            }
            targets.append(ReconcileTarget(spec: loaded.spec, revision: snapshot.revision, location: loaded.location))
        }
        if !targets.isEmpty {
            for (name, result) in await reconcile(targets) {
                switch result {
                case .success(let r): report.applied[name] = r
                case .failure: report.planFailures.append(name)
                }
            }
        }
        if options.prune { await prune(load, statuses: Array(statuses.values), revision: snapshot.revision, into: &report) }
        return report
    }

    /// Plans, logs and applies targets, a few deployments at once.
    private func reconcile(_ targets: [ReconcileTarget]) async -> [(String, Result<ApplyResult, PlanFailure>)] {
        let planned = await reconciler.plan(targets)
        var results: [(String, Result<ApplyResult, PlanFailure>)] = []
        await withTaskGroup(of: (String, Result<ApplyResult, PlanFailure>).self) { group in
            var running = 0
            for item in planned {
                if running >= options.concurrency, let done = await group.next() {
                    results.append(done)
                    running -= 1
                }
                running += 1
                group.addTask {
                    switch item {
                    case .failure(let f):
                        let revision = targets.first?.revision
                        // A deployment that cannot even be planned still shows up in `reclaw status`.
                        _ = try? self.reconciler.state.update(f.deployment) { s in
                            if let target = targets.first(where: { $0.spec.name == f.deployment }) {
                                s.region = target.spec.region
                                s.location = target.location?.description
                            }
                            s.lastAttemptedRevision = revision
                            s.lastAttemptedAt = Date()
                            s.set("Ready", false, reason: "PlanFailed", message: "\(f.error)")
                            s.set("Stalled", false, reason: "Retrying", message: "the next pass retries")
                        }
                        await self.failed(f.deployment, code: f.error.code, message: "\(f.error)", revision: revision)
                        return (f.deployment, .failure(f))
                    case .success(let p):
                        // When AWS was last known to match: where a search for who drifted it starts.
                        let before = try? self.reconciler.state.load(p.name)
                        let since = before?.lastInSyncAt ?? before?.lastAppliedAt ?? Date().addingTimeInterval(-3600)
                        let result = await self.apply(p)
                        if result.converged, !p.plan.drift.isEmpty { await self.driftCorrectedByRevision(p, since: since) }
                        return (p.name, .success(result))
                    }
                }
            }
            for await done in group { results.append(done) }
        }
        return results
    }

    /// Logs a plan, applies it, and records success or backoff.
    private func apply(_ planned: PlannedDeployment, recordPlan: Bool = false) async -> ApplyResult {
        let name = planned.name
        let started = ContinuousClock.now
        logger.info("\n\(PlanRenderer.text(planned.plan))", metadata: ["deployment": "\(name)", "plan.id": "\(planned.plan.id)"])
        let result = await reconciler.apply(planned, recordPlan: recordPlan, shouldStop: { [weak self] in self?.isShuttingDown ?? true })
        metrics.reconciled(deployment: name, kind: "apply", result: result.converged ? .success : .failure, seconds: (ContinuousClock.now - started).inSeconds)
        if result.converged {
            memory.withLock { $0.backoff[name] = nil }
            metrics.succeeded(deployment: name, at: Date())
            if planned.plan.hasChanges {
                logger.info("applied", metadata: ["deployment": "\(name)", "plan.id": "\(planned.plan.id)", "steps": "\(result.outcomes.count)"])
            }
        } else if !isShuttingDown {
            let failures = memory.withLock { m -> Int in
                let n = (m.backoff[name]?.failures ?? 0) + 1
                let wait = min(options.interval * Double(1 << min(n, 6)), .seconds(1800))
                m.backoff[name] = (n, ContinuousClock.now + wait)
                return n
            }
            let first = result.problems.first.map { "\($0.step): \(Reconciler.describe($0.status))" } ?? "not converged"
            await failed(name, code: "ApplyFailed", message: "\(first) (attempt \(failures); retrying with backoff)", revision: planned.plan.revision)
        }
        return result
    }

    private func failed(_ name: String, code: String, message: String, revision: String?) async {
        logger.error("reconcile failed", metadata: ["deployment": "\(name)", "error": "\(message)"])
        await emit(AuditEvent(type: .reconcileFailed, deployment: name, revision: revision, errorCode: code, errorMessage: message,
                              message: "\(name): \(message)"), alertKey: "failed/\(name)/\(code)")
    }

    /// Destroys deployments whose spec left the repository, never all of them at once, never when a
    /// file could not be read (it may hold them), never anything without reclaw's tags.
    private func prune(_ load: SpecLoadResult, statuses: [DeploymentStatus], revision: String, into report: inout PassReport) async {
        let known = Set(statuses.filter { $0.lastAppliedSpec != nil || $0.region != nil }.map(\.deployment))
        let present = Set(load.deployments.map(\.spec.name)).union(load.invalidDeployments.keys)
        let removed = known.subtracting(present)
        guard !removed.isEmpty else { return }
        guard load.filesWithErrors.isEmpty else {
            logger.warning("not pruning: some spec files cannot be read, and may hold the deployments that look removed",
                           metadata: ["files": "\(load.filesWithErrors.sorted())"])
            return
        }
        guard removed.count < known.count else {
            let message = "refusing to prune: it would destroy every deployment (\(removed.sorted().joined(separator: ", "))); is the source or --path right?"
            report.pruneRefused = message
            logger.error("\(message)")
            await emit(AuditEvent(type: .reconcileFailed, revision: revision, errorCode: "PruneRefused", errorMessage: message, message: message),
                       alertKey: "prune-refused/\(revision)")
            return
        }
        for name in removed.sorted() {
            guard let status = statuses.first(where: { $0.deployment == name }), let region = status.region else { continue }
            do {
                let planned = try await reconciler.destroyPlan(deployment: name, region: region, roleArn: status.lastAppliedSpec?.roleArn, revision: revision)
                logger.info("pruning: the spec left the repository", metadata: ["deployment": "\(name)"])
                let result = await apply(planned)
                if result.converged { report.pruned.append(name) }
            } catch {
                await failed(name, code: error.code, message: "cannot prune: \(error)", revision: revision)
            }
        }
    }

    // MARK: drift

    /// Compares every converged deployment with its last applied revision; corrects or alerts.
    public func driftPass() async -> [DriftFinding] {
        let statuses = ((try? reconciler.state.all()) ?? []).filter { $0.lastAppliedSpec != nil && $0.condition("Ready")?.status == true }
        guard !statuses.isEmpty else { return [] }
        let log = auditLog
        let checker = DriftChecker(reconciler: reconciler, ownRequestIDs: { log?.requestIDs() ?? [] })
        var findings: [DriftFinding] = []
        for (status, result) in zip(statuses, await checker.check(statuses)) {
            let name = status.deployment
            switch result {
            case .failure(let f):
                logger.error("drift check failed", metadata: ["deployment": "\(name)", "error": "\(f.error)"])
            case .success(nil):
                metrics.drifted(deployment: name, resources: 0)
                metrics.succeeded(deployment: name, at: Date())
                if memory.withLock({ $0.driftAlerted.removeValue(forKey: name) }) != nil {
                    await emit(AuditEvent(type: .driftResolved, deployment: name, revision: status.lastAppliedRevision, awsRegion: status.region,
                                          message: "\(name): the drift is gone; AWS matches revision \(status.lastAppliedRevision ?? "?") again"), alertKey: nil)
                }
            case .success(let finding?):
                findings.append(finding)
                metrics.drifted(deployment: name, resources: finding.items.count)
                await handle(finding, policy: status.lastAppliedSpec?.policy.drift ?? .correct, since: status.lastInSyncAt ?? status.lastAppliedAt ?? Date())
            }
        }
        return findings
    }

    private func handle(_ finding: DriftFinding, policy: DeploymentSpec.Policy.Drift, since: Date) async {
        let name = finding.deployment
        logger.warning("drift: \(finding.summary)", metadata: ["deployment": "\(name)", "policy": "\(policy.rawValue)"])
        var event = DriftChecker.event(finding, corrected: false)
        if policy == .correct {
            let result = await apply(finding.planned, recordPlan: true)
            if result.converged {
                event = DriftChecker.event(finding, corrected: true)
                memory.withLock { $0.driftAlerted[name] = nil }
                await emit(event, alertKey: "corrected/\(name)/\(finding.fingerprint)")
            } else {
                await emit(event, alertKey: nil, force: shouldAlertDrift(finding))
            }
        } else {
            if shouldAlertDrift(finding) { await emit(event, alertKey: nil, force: true) }
        }
        if finding.attributionStatus == "pending" {
            memory.withLock { $0.pending.append(PendingAttribution(finding: finding, since: since, attempts: 0)) }
        }
    }

    /// A new revision's apply also undid drift found on the way: that is recorded as corrected,
    /// attributed like any other drift.
    private func driftCorrectedByRevision(_ planned: PlannedDeployment, since: Date) async {
        var finding = DriftFinding(deployment: planned.name, region: planned.plan.region, planned: planned, items: planned.plan.drift,
                                   attribution: [], attributionStatus: "pending")
        let log = auditLog
        await DriftChecker(reconciler: reconciler, ownRequestIDs: { log?.requestIDs() ?? [] }).attribute(&finding, since: since)
        memory.withLock { $0.driftAlerted[planned.name] = nil }
        await emit(DriftChecker.event(finding, corrected: true), alertKey: "corrected/\(planned.name)/\(finding.fingerprint)")
        if finding.attributionStatus == "pending" {
            memory.withLock { $0.pending.append(PendingAttribution(finding: finding, since: since, attempts: 0)) }
        }
    }

    /// The same drift is alerted once per window; a different drift at once.
    private func shouldAlertDrift(_ finding: DriftFinding) -> Bool {
        memory.withLock { m in
            let now = ContinuousClock.now
            if let last = m.driftAlerted[finding.deployment], last.fingerprint == finding.fingerprint, now - last.at < options.alertWindow {
                return false
            }
            m.driftAlerted[finding.deployment] = (finding.fingerprint, now)
            return true
        }
    }

    /// Asks CloudTrail again about drift whose author it had not delivered; a bounded number of times.
    public func attributionPass() async {
        let pending = memory.withLock { m in
            defer { m.pending = [] }
            return m.pending
        }
        guard !pending.isEmpty else { return }
        let log = auditLog
        let checker = DriftChecker(reconciler: reconciler, ownRequestIDs: { log?.requestIDs() ?? [] })
        var still: [PendingAttribution] = []
        for var item in pending {
            await checker.attribute(&item.finding, since: item.since)
            if item.finding.attributionStatus == "attributed" {
                var event = DriftChecker.event(item.finding, corrected: false)
                event.eventType = .driftAttributed
                event.message = "\(item.finding.deployment): the drift on \(item.finding.summary) was made by "
                    + item.finding.attribution.map { "\($0.userIdentityArn ?? "unknown") (\($0.eventName) at \($0.eventTime), CloudTrail event \($0.cloudTrailEventID))" }.joined(separator: "; ")
                await emit(event, alertKey: nil, force: true)
            } else {
                item.attempts += 1
                if item.attempts < options.attributionAttempts {
                    still.append(item)
                } else {
                    logger.warning("CloudTrail never showed who made the drift; giving up", metadata: ["deployment": "\(item.finding.deployment)"])
                }
            }
        }
        memory.withLock { $0.pending += still }
    }

    // MARK: events

    /// Records an event and alerts on it: once per `alertKey` and window, or always with `force`.
    private func emit(_ event: AuditEvent, alertKey: String?, force: Bool = false) async {
        await auditor.emit(event)
        var send = force
        if let alertKey {
            send = memory.withLock { m in
                let now = ContinuousClock.now
                if let last = m.alertedAt[alertKey], now - last < options.alertWindow { return false }
                m.alertedAt[alertKey] = now
                return true
            }
        } else if event.eventType == .driftResolved {
            send = true
        }
        if send { notifier?.send(event) }
    }
}
