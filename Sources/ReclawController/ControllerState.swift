import ReclawEvents
import ReclawSignatures
import ReclawState

/// Everything the daemon remembers between jobs, which `ReconcileDaemon` keeps behind one lock:
/// the scheduler, the source in force, stalls, conditions, notices, ownership and health.
package struct ControllerState: Sendable {
    package var scheduler: WorkScheduler
    package var source = SourceState()
    package var alerts: AlertMemory
    /// Deployments stopped because their state or their audit record cannot be written.
    package var stalled: [String: Stall] = [:]
    /// Each deployment's conditions as last written to its status (see `ConditionSignals`).
    package var conditions: [String: [Condition]] = [:]
    /// Drift found by the drift lane that a reconcile is about to correct, by deployment.
    package var findings: [String: DriftFinding] = [:]
    /// Deployments whose spec left the repository, queued to be pruned.
    package var prunable: Set<String> = []
    /// Changes CloudTrail's events reported, by deployment, and who waits for their checks.
    package var notices: [String: [ChangeNotice]] = [:]
    package var noticeWaits: [NoticeWait] = []
    /// When each deployment's event-driven drift check is due: one per few seconds at most.
    package var noticeChecks = NoticeCoalescer()
    /// Which deployment each known resource id, role name and parameter name belongs to.
    package var resourceIndex: [String: String] = [:]
    /// With several replicas: the deployments whose lease this replica holds and whose state
    /// it has adopted.
    package var owned: Set<String> = []
    /// The resources an association, volume or rule id stands for (a route table association:
    /// its subnet and table), so a change event naming only it is matched to their drift.
    package var resourceAliases: [String: Set<String>] = [:]
    package var health: HealthTracker
    package var shutdownStarted: Duration?
    /// The newest revision refused for its signature, while no later one has verified.
    package var rejected: SignatureRefusal?
    /// The verified-revision file that cannot be read: nothing is applied until it can.
    package var verifiedStateError: StateError?
    /// The verified revision last recorded in the state directory.
    package var recordedVerified: VerifiedRevision?
    /// The signer of the newest verified revision, for deployments whose status is first
    /// written after it was fetched (a first apply).
    package var verified: (signer: VerifiedSigner, revision: String)?
    /// The scheduler's adds and retries already counted in the metrics.
    package var countedQueue = (added: 0, retries: 0)

    package init(scheduler: WorkScheduler, alerts: AlertMemory, health: HealthTracker) {
        self.scheduler = scheduler
        self.alerts = alerts
        self.health = health
    }

    /// Why a deployment stopped, as shown in the log, metrics, health and alerts.
    package struct Stall: Sendable, Equatable {
        package var reason: ConditionReason
        package var message: String

        package init(reason: ConditionReason, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    /// Takes in what a job reported: the scheduler and the health tracker learn of it.
    package mutating func apply(_ event: ControllerEvent, now: Duration) {
        switch event {
        case .wake: break
        case .fetched(let ok):
            scheduler.fetched(succeeded: ok, now: now)
            health.fetchCompleted(at: now)
        case .reconciled(let name, let outcome):
            scheduler.reconciled(name, outcome, now: now)
        case .driftChecked(let names, let outcomes):
            scheduler.driftChecked(names, outcomes, now: now)
            health.driftCompleted(at: now)
        case .attributed(let names, let next):
            scheduler.attributed(names, next: next, now: now)
        }
    }
}

/// What wakes the daemon's service loop: a job's outcome, or only a wake-up.
package enum ControllerEvent: Sendable {
    case wake
    case fetched(Bool)
    case reconciled(String, ReconcileOutcome)
    case driftChecked([String], [String: DriftOutcome])
    case attributed([String], [String: Duration])
}

extension ControllerState {
    /// Every stalled deployment with why, for /healthz: a stall the status could not record first,
    /// else the Stalled condition last written (`InvalidSpec: fix the spec; …`).
    package var stalledNotes: [String: String] {
        var notes: [String: String] = [:]
        for (name, conditions) in conditions {
            guard let c = conditions.first(where: { $0.type == .stalled }), c.isTrue else { continue }
            notes[name] = c.message.isEmpty ? c.reason.rawValue : "\(c.reason.rawValue): \(c.message)"
        }
        for (name, stall) in stalled where stall.reason != .notOwned {
            notes[name] = "\(stall.reason.rawValue): \(stall.message)"
        }
        return notes
    }

    package var sourceHold: SourceHold? {
        if let verifiedStateError { return .stateUnreadable(verifiedStateError.message) }
        return rejected.map { .rejected($0.description) }
    }
}

/// Notices waiting for the drift checks of their deployments.
package struct NoticeWait: Sendable {
    package var waiting: Set<String>
    package var handled: @Sendable () async -> Void

    package init(waiting: Set<String>, handled: @escaping @Sendable () async -> Void) {
        self.waiting = waiting
        self.handled = handled
    }
}
