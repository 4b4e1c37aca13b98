import Foundation
import Logging
import ReclawAlerts
import ReclawAudit
import ReclawTime
import ReclawController
import ReclawLease
import ReclawOperations
import ReclawProviderAWS
import ReclawSource
import ReclawState
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The GitOps daemon: a controller with a per-deployment work queue. `WorkScheduler` decides what
/// runs when; this service only does the I/O: it fetches the source, reconciles queued deployments
/// with a bounded number of workers, checks drift on each deployment's own timer, looks up who
/// caused drift, and keeps every deployment's status. Tests drive it as a service, or run its
/// passes directly (`sourcePass`, `driftPass`, `attributionPass`).
public final class ReconcileDaemon: Service, Sendable {
    public let source: SpecSource
    /// Plans and applies: the AWS `Reconciler` under `reclaw run`, an in-memory one in tests.
    public let reconciler: any DeploymentReconciler
    public let auditor: Auditor
    public let auditLog: AuditLog?
    public let notifier: AlertNotifier?
    public let metrics: Metrics
    public let options: DaemonOptions
    public let clock: any TimeSource
    /// The replica's leases, when reclaw runs as several replicas: only deployments it holds are
    /// worked on.
    public let leases: LeaseManager?
    let logger: Logger
    let attributions: AttributionStore
    let attributor: any DriftAuthorLookup

    /// Everything the daemon remembers between jobs, behind one lock.
    typealias Core = ControllerState
    typealias Stall = ControllerState.Stall
    typealias Event = ControllerEvent

    let core: Mutex<Core>
    private let events: AsyncStream<Event>
    let post: AsyncStream<Event>.Continuation
    /// One element each time the loop has taken in an event: what the alarm waits for when work it
    /// announced is still due.
    private let turns: AsyncStream<Void>
    private let turned: AsyncStream<Void>.Continuation

    public init(source: SpecSource, reconciler: any DeploymentReconciler, auditor: Auditor, auditLog: AuditLog?,
                notifier: AlertNotifier?, metrics: Metrics, options: DaemonOptions, clock: any TimeSource = SystemClock(),
                leases: LeaseManager? = nil, logger: Logger) {
        self.source = source
        self.reconciler = reconciler
        self.auditor = auditor
        self.auditLog = auditLog
        self.notifier = notifier
        self.metrics = metrics
        self.options = options
        self.clock = clock
        self.leases = leases
        self.logger = logger
        attributions = AttributionStore(stateDirectory: reconciler.state.directory, changes: reconciler.state.changes)
        attributor = reconciler.driftAuthors()
        let start = clock.now()
        core = Mutex(Core(scheduler: WorkScheduler(settings: options.schedulerSettings, seed: UInt64(truncatingIfNeeded: getpid())),
                          alerts: AlertMemory(window: options.alertWindow),
                          health: HealthTracker(started: start)))
        (events, post) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        (turns, turned) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        followConditions()
        leases?.connect(listener: { [weak self] gained, lost in await self?.ownershipChanged(gained: gained, lost: lost) },
                        busy: { [weak self] in self?.busyDeployments ?? [] })
    }

    /// Fetches at once (a push notification, SIGHUP, or a test).
    public func requestFetch() {
        let now = clock.now()
        core.withLock { $0.scheduler.requestFetch(now: now) }
        post.yield(.wake)
    }

    public var isShuttingDown: Bool { core.withLock { $0.scheduler.shuttingDown } }

    /// The revision currently in force (the last one fetched and read).
    public var revision: String? { core.withLock { $0.source.revision } }

    /// The service's health, for /healthz: it fails when no fetch or no drift check has completed
    /// within a few intervals (a hung loop), when the audit log cannot take events, or when a
    /// deployment has no live replica owning it. Stalled deployments are named, with their reason.
    public func health() -> HealthReport {
        let now = clock.now()
        let unowned = leases?.unowned.mapValues(\.description) ?? [:]
        return core.withLock { c in
            c.health.report(now: now, options: options, tracked: !c.scheduler.tracked.isEmpty, shuttingDown: c.scheduler.shuttingDown,
                            stalled: c.stalledNotes, unowned: unowned, sourceHeld: c.sourceHold)
        }
    }

    // MARK: the service loop

    public func run() async throws {
        // Everything the daemon starts reads time on the daemon's clock.
        await Clocks.$current.withValue(clock) { await serve() }
    }

    private func serve() async {
        await withGracefulShutdownHandler {
            // Discarding: a job's task is freed when it ends. (A plain task group keeps every
            // finished child until its result is read, so a daemon that never stops would keep them all.)
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) { self.requestFetch() }
                }
                group.addTask { await self.alarm() }
                group.addTask { await self.releaseFreeMemory() }
                post.yield(.wake)
                for await event in events {
                    let now = clock.now()
                    let (jobs, done, overdue) = core.withLock { c -> ([Job], Bool, Bool) in
                        c.apply(event, now: now)
                        let jobs = c.scheduler.next(now: now)
                        let done = c.scheduler.shuttingDown && !c.scheduler.isBusy
                        let overdue = c.shutdownStarted.map { now - $0 > .seconds(25) } ?? false
                        return (jobs, done, overdue)
                    }
                    publishQueueMetrics(now: now)
                    for job in jobs { group.addTask { await self.perform(job) } }
                    turned.yield()
                    if done { break }
                    if overdue {
                        // Steps still running after the grace period are interrupted; their
                        // resources are tagged, so the next start finds them.
                        logger.warning("shutdown grace period over: interrupting the work still running")
                        break
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            let now = self.clock.now()
            self.core.withLock { c in
                c.scheduler.shutDown()
                c.shutdownStarted = now
            }
            self.logger.info("shutting down: taking no new work, letting the steps in flight finish")
            self.leases?.beginShutdown()
            self.post.yield(.wake)
        }
        // The notifier is a service of its own, shut down after the daemon in the service group's
        // order: ending it here raced that order ("a service has finished unexpectedly", exit 1).
    }

    /// Wakes the loop when the scheduler's next timer is due (at least once a second, so a shutdown
    /// grace period is noticed).
    private func alarm() async {
        var turns = self.turns.makeAsyncIterator()
        // The due time the last wake-up was for.
        var announced: Duration?
        while !Task.isCancelled {
            let now = clock.now()
            let next = core.withLock { $0.scheduler.nextWakeup() } ?? now + .seconds(1)
            if next <= now && next == announced {
                // Announced and still due: either the loop has not taken the wake-up in yet, or
                // the work cannot start until something ends. The loop's next turn says which;
                // waking it again at once would only spin.
                guard await turns.next() != nil else { return }
                continue
            }
            let until = min(max(next, now), now + .seconds(1))
            do { try await clock.sleep(until: until) } catch { return }
            announced = until == max(next, now) ? next : nil
            post.yield(.wake)
        }
    }

    /// Hands the memory malloc holds free back to the system every `FreeMemory.period`.
    private func releaseFreeMemory() async {
        while !Task.isCancelled {
            do { try await clock.sleep(until: clock.now() + FreeMemory.period) } catch { return }
            FreeMemory.release()
        }
    }

    /// Runs one job and reports its outcome to the loop.
    private func perform(_ job: Job) async {
        switch job {
        case .fetch:
            let ok = await fetchLane()
            post.yield(.fetched(ok))
        case .reconcile(let items):
            _ = await reconcileLane(items) { name, outcome in self.post.yield(.reconciled(name, outcome)) }
        case .driftCheck(let names):
            let result = await driftLane(names)
            post.yield(.driftChecked(names, result.outcomes))
            await noticesChecked(Set(names))
        case .attribute(let names):
            let next = await attributionLane(names, dueOnly: true)
            post.yield(.attributed(names, next))
        }
    }

    func publishQueueMetrics(now: Duration) {
        let (depth, running, longest, added, retried, timings, unfinished) = core.withLock { c in
            defer { c.countedQueue = (c.scheduler.added, c.scheduler.retries) }
            return (c.scheduler.depth, c.scheduler.running, c.scheduler.longestRunning(now: now),
                    c.scheduler.added - c.countedQueue.added, c.scheduler.retries - c.countedQueue.retries,
                    c.scheduler.takeTimings(), c.scheduler.unfinishedWork(now: now))
        }
        metrics.queue(depth: depth, running: running, longestRunningSeconds: longest.inSeconds)
        metrics.queueTimings(queued: timings.queued.map(\.inSeconds), worked: timings.worked.map(\.inSeconds),
                             unfinishedSeconds: unfinished.inSeconds)
        for _ in 0..<added { metrics.queueAdded() }
        for _ in 0..<retried { metrics.queueRetried() }
    }

    // MARK: stalls, events and alerts

    /// Stops work on a deployment whose state or audit record cannot be written, and says so once.
    func stall(_ name: String, _ reason: ConditionReason, _ message: String, revision: String?) async {
        let changed = core.withLock { c -> Bool in
            let stall = Stall(reason: reason, message: message)
            defer { c.stalled[name] = stall }
            return c.stalled[name] != stall
        }
        guard reason != .notOwned else {
            // Another replica holds the deployment now: nothing failed, it carries on there.
            if changed { logger.info("the deployment's lease moved to another replica: \(message)", metadata: ["deployment": "\(name)"]) }
            return
        }
        publishConditions(name)
        guard changed else { return }
        logger.error("the deployment is stalled: \(message)", metadata: ["deployment": "\(name)", "reason": "\(reason.rawValue)"])
        await emit(AuditEvent(type: .reconcileFailed, time: clock.date(), deployment: name, revision: revision, errorCode: reason.rawValue,
                              errorMessage: message, message: "\(name): stalled: \(message)"),
                   alertKey: "stalled/\(name)/\(reason.rawValue)")
    }

    /// A deployment that works again is no longer stalled; its metrics say what its status says.
    func unstall(_ name: String) {
        guard core.withLock({ $0.stalled.removeValue(forKey: name) }) != nil else { return }
        publishConditions(name)
    }

    /// Records an event and alerts on it: once per `alertKey` and window, or always with `force`.
    /// An event the audit log cannot take is still logged (by the auditor) and alerted.
    func emit(_ event: AuditEvent, alertKey: String?, force: Bool = false) async {
        do {
            try await auditor.emit(event)
        } catch {
            // The auditor logged the event; mutating calls are refused until the log takes events again.
        }
        var send = force || event.eventType == .driftResolved
        if let alertKey {
            let now = clock.now()
            send = core.withLock { $0.alerts.shouldSend(alertKey, now: now) }
        }
        if send { notifier?.send(event) }
    }
}
