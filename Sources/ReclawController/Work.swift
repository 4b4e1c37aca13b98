/// Why a deployment is queued for a reconcile (plan, then apply what differs).
public enum WorkReason: String, Sendable, Hashable, CaseIterable {
    /// Its spec is new or changed, or it is not converged yet.
    case newRevision
    /// A drift check found drift that its policy says to correct.
    case driftCorrection
    /// The last attempt failed; this one comes after a backoff.
    case retry
    /// Its spec left the repository and `--prune` is on: destroy it.
    case prune
}

/// One deployment handed out for a reconcile, with why it was queued.
public struct ReconcileItem: Sendable, Hashable {
    public var name: String
    public var reasons: Set<WorkReason>

    public init(name: String, reasons: Set<WorkReason>) {
        self.name = name
        self.reasons = reasons
    }
}

/// A unit of work the daemon runs. Deployments in one job are observed together (one batched
/// observation per region), then handled one by one.
public enum Job: Sendable, Hashable {
    /// Fetch the source and read its specs.
    case fetch
    /// Plan and apply each of these deployments.
    case reconcile([ReconcileItem])
    /// Compare these deployments with what was last applied.
    case driftCheck([String])
    /// Look up in CloudTrail who caused these deployments' pending drift.
    case attribute([String])
}

/// How a deployment's reconcile ended, as far as scheduling goes.
public enum ReconcileOutcome: Sendable, Hashable {
    /// AWS matches the spec (or the deployment was destroyed).
    case converged
    /// It failed; try again after a backoff.
    case failed
    /// It cannot progress until its spec changes (a blocked replacement): no automatic retry.
    case stalled
}

/// How a deployment's drift check ended.
public enum DriftOutcome: Sendable, Hashable {
    case clean
    /// Drift was found; `correct` queues a reconcile that undoes it.
    case drifted(correct: Bool)
    case failed
    /// Not checked (never applied, or busy).
    case skipped
}

extension WorkScheduler {
    /// How often the source and the drift checks are due, how many workers reconcile at once,
    /// and how a failing deployment backs off.
    public struct Settings: Sendable {
        public var interval: Duration
        public var driftInterval: Duration
        public var workers: Int
        public var backoffMin: Duration
        public var backoffMax: Duration
        /// Drift checks due within this window of each other run together (one batched observation).
        public var driftCoalesce: Duration

        public init(interval: Duration, driftInterval: Duration, workers: Int, backoffMin: Duration = .seconds(10),
                    backoffMax: Duration = .seconds(900), driftCoalesce: Duration? = nil) {
            self.interval = interval
            self.driftInterval = driftInterval
            self.workers = max(1, workers)
            self.backoffMin = backoffMin
            self.backoffMax = max(backoffMin, backoffMax)
            self.driftCoalesce = driftCoalesce ?? driftInterval / 10
        }
    }
}
