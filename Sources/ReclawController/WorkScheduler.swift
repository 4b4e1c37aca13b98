import Foundation

/// The daemon's scheduling as a value: which deployment is queued, running, backing off or due for
/// a drift check, and what to start next. It never reads a clock and never does I/O; the daemon
/// feeds it the time and the outcomes, and starts the jobs it hands out. Shaped after
/// controller-runtime's rate-limited work queue: a deployment is queued at most once and handled
/// by at most one worker at a time; fetching, drift checks and attribution each have a lane of
/// their own, so none waits for an apply.
public struct WorkScheduler: Sendable {
    enum Lane: Sendable, Hashable { case reconcile, drift, attribution }

    struct Entry: Sendable {
        var queued: Set<WorkReason> = []
        var lane: Lane?
        var startedAt: Duration?
        /// When it last joined the queue (a retry: when its backoff ends), for the queue duration.
        var queuedAt: Duration?
        var nextDrift: Duration
        var failures = 0
        var notBefore: Duration?
        var nextAttribution: Duration?
        /// Left the repository while busy: forgotten once its work ends.
        var removed = false
        /// A drift check was asked for while the deployment was busy: it comes right after, or
        /// at this time if later.
        var driftRequested: Duration?
    }

    public let settings: Settings
    private(set) var entries: [String: Entry] = [:]
    private(set) var fetchDue: Duration? = .zero
    private(set) var fetchRunning = false
    private var fetchAgain = false
    private var fetchFailures = 0
    private(set) var driftRunning = false
    private(set) var attributionRunning = false
    private var random: SplitMix64
    public private(set) var shuttingDown = false
    /// Work handed out so far, and retries among it (for metrics).
    public private(set) var added = 0
    public private(set) var retries = 0
    /// Time reconciles waited in the queue and took to run, not yet taken by `takeTimings()`.
    private var queueWaits: [Duration] = []
    private var workTimes: [Duration] = []
    static let maxTimings = 4096

    public init(settings: Settings, seed: UInt64 = 0x5EED) {
        self.settings = settings
        random = SplitMix64(seed: seed)
    }

    // MARK: what the daemon tells it

    /// The deployments the source holds now: new ones get a drift timer, gone ones are forgotten
    /// (once their running work ends).
    public mutating func track(_ names: Set<String>, now: Duration) {
        for name in names where entries[name] == nil {
            entries[name] = Entry(nextDrift: now + settings.driftInterval)
        }
        for name in entries.keys where !names.contains(name) {
            if entries[name]!.lane == nil && !entries[name]!.queued.contains(.prune) {
                entries[name] = nil
            } else {
                entries[name]!.removed = true
            }
        }
    }

    /// Queues a deployment (once, whatever the number of reasons).
    public mutating func enqueue(_ name: String, _ reason: WorkReason, now: Duration) {
        var entry = entries[name] ?? Entry(nextDrift: now + settings.driftInterval)
        if reason == .prune { entry.removed = false }
        if entry.queued.isEmpty {
            added += 1
            entry.queuedAt = now
        }
        entry.queued.insert(reason)
        if reason == .newRevision || reason == .prune { entry.notBefore = nil }
        entries[name] = entry
    }

    /// Something changed the deployment's resources (a CloudTrail event): check it for drift at
    /// once, or right after the work it is busy with.
    public mutating func checkDriftNow(_ name: String, now: Duration) {
        checkDrift(name, at: now)
    }

    /// A drift check of the deployment at `due` (earlier when one is due sooner anyway).
    public mutating func checkDrift(_ name: String, at due: Duration) {
        guard var e = entries[name] else { return }
        if e.lane == nil { e.nextDrift = min(e.nextDrift, due) } else { e.driftRequested = min(e.driftRequested ?? due, due) }
        entries[name] = e
    }

    /// A push notification or SIGHUP: fetch at once (again, if a fetch is running).
    public mutating func requestFetch(now: Duration) {
        if fetchRunning { fetchAgain = true } else { fetchDue = now }
    }

    /// When the deployment's pending attributions are next due (nil: none pending).
    public mutating func attribution(_ name: String, dueAt: Duration?) {
        entries[name]?.nextAttribution = dueAt
    }

    /// Takes no new work from now on.
    public mutating func shutDown() { shuttingDown = true }

    // MARK: handing out work

    /// The jobs to start now; the deployments in them are marked busy.
    public mutating func next(now: Duration) -> [Job] {
        guard !shuttingDown else { return [] }
        var jobs: [Job] = []
        if !fetchRunning, let due = fetchDue, due <= now {
            fetchRunning = true
            fetchDue = nil
            jobs.append(.fetch)
        }
        let free = settings.workers - entries.values.filter { $0.lane == .reconcile }.count
        if free > 0 {
            let ready = entries.filter { isReadyToReconcile($0.value, now: now) }.keys.sorted().prefix(free)
            if !ready.isEmpty {
                let items = ready.map { ReconcileItem(name: $0, reasons: entries[$0]!.queued) }
                for name in ready { start(name, .reconcile, now: now) }
                jobs.append(.reconcile(items))
            }
        }
        if !driftRunning {
            let horizon = now + settings.driftCoalesce
            if entries.values.contains(where: { isIdle($0) && $0.nextDrift <= now }) {
                let due = entries.filter { isIdle($0.value) && $0.value.nextDrift <= horizon }.keys.sorted()
                for name in due { start(name, .drift, now: now) }
                driftRunning = true
                jobs.append(.driftCheck(due))
            }
        }
        if !attributionRunning {
            let due = entries.filter { isIdle($0.value) && ($0.value.nextAttribution.map { $0 <= now } ?? false) }.keys.sorted()
            if !due.isEmpty {
                for name in due { start(name, .attribution, now: now) }
                attributionRunning = true
                jobs.append(.attribute(due))
            }
        }
        return jobs
    }

    /// Hands out, outside the lanes' own timing, the queued deployments that are free (a pass run
    /// by hand or `--once`): backoff is ignored, busy deployments are left alone.
    public mutating func claimQueued(now: Duration) -> [ReconcileItem] {
        let names = entries.filter { $0.value.lane == nil && !$0.value.queued.isEmpty }.keys.sorted()
        let items = names.map { ReconcileItem(name: $0, reasons: entries[$0]!.queued) }
        for name in names { start(name, .reconcile, now: now) }
        return items
    }

    /// Marks free deployments busy for a drift check run by hand; returns those that were free.
    public mutating func claimForDrift(_ names: [String], now: Duration) -> [String] {
        let free = names.filter { entries[$0] != nil && entries[$0]!.lane == nil }
        for name in free { start(name, .drift, now: now) }
        return free
    }

    /// Marks free deployments busy for attribution run by hand; returns those that were free.
    public mutating func claimForAttribution(_ names: [String], now: Duration) -> [String] {
        let free = names.filter { entries[$0] != nil && entries[$0]!.lane == nil }
        for name in free { start(name, .attribution, now: now) }
        return free
    }

    func isIdle(_ e: Entry) -> Bool { e.lane == nil && e.queued.isEmpty && e.notBefore == nil && !e.removed }

    private func isReadyToReconcile(_ e: Entry, now: Duration) -> Bool {
        e.lane == nil && !e.queued.isEmpty && (e.notBefore.map { $0 <= now } ?? true)
    }

    private mutating func start(_ name: String, _ lane: Lane, now: Duration) {
        if lane == .reconcile, entries[name]!.queued.contains(.retry) { retries += 1 }
        if lane == .reconcile, let queuedAt = entries[name]!.queuedAt {
            Self.keep(&queueWaits, max(.zero, now - queuedAt))
            entries[name]!.queuedAt = nil
        }
        entries[name]!.lane = lane
        entries[name]!.startedAt = now
        if lane == .reconcile { entries[name]!.queued = [] }
    }

    // MARK: outcomes

    public mutating func fetched(succeeded: Bool, now: Duration) {
        fetchRunning = false
        if fetchAgain {
            fetchAgain = false
            fetchDue = now
            return
        }
        if succeeded {
            fetchFailures = 0
            fetchDue = now + settings.interval * random.jitter(0.1)
        } else {
            fetchFailures += 1
            fetchDue = now + min(settings.interval * Double(1 << min(fetchFailures, 5)), .seconds(900))
        }
    }

    /// A deployment's reconcile ended.
    public mutating func reconciled(_ name: String, _ outcome: ReconcileOutcome, now: Duration) {
        guard var e = entries[name] else { return }
        if e.lane == .reconcile, let startedAt = e.startedAt { Self.keep(&workTimes, max(.zero, now - startedAt)) }
        e.lane = nil
        e.startedAt = nil
        switch outcome {
        case .converged:
            e.failures = 0
            e.notBefore = nil
            e.nextDrift = now + settings.driftInterval
        case .failed:
            e.failures += 1
            e.notBefore = now + backoff(e.failures)
            if e.queued.isEmpty { e.queuedAt = e.notBefore }
            e.queued.insert(.retry)
        case .stalled:
            e.failures += 1
            e.notBefore = nil
            e.nextDrift = now + settings.driftInterval
        }
        finish(name, e)
    }

    /// A drift check of `names` ended; deployments without an outcome count as skipped.
    /// `lane` is false for a check run by hand (the drift lane's own job is still running).
    public mutating func driftChecked(_ names: [String], _ outcomes: [String: DriftOutcome], now: Duration, lane: Bool = true) {
        if lane { driftRunning = false }
        for name in names {
            guard var e = entries[name], e.lane == .drift else { continue }
            e.lane = nil
            e.startedAt = nil
            switch outcomes[name] ?? .skipped {
            case .clean, .skipped, .drifted(correct: false):
                e.nextDrift = now + settings.driftInterval
            case .drifted(correct: true):
                e.nextDrift = now + settings.driftInterval
                if e.queued.isEmpty {
                    added += 1
                    e.queuedAt = now
                }
                e.queued.insert(.driftCorrection)
            case .failed:
                e.nextDrift = now + min(settings.driftInterval, backoff(1))
            }
            finish(name, e)
        }
    }

    /// Attribution of `names` ended; `next` gives each one's next due time (absent: nothing pending).
    public mutating func attributed(_ names: [String], next: [String: Duration], now: Duration, lane: Bool = true) {
        if lane { attributionRunning = false }
        for name in names {
            guard var e = entries[name], e.lane == .attribution else { continue }
            e.lane = nil
            e.startedAt = nil
            e.nextAttribution = next[name]
            finish(name, e)
        }
    }

    private mutating func finish(_ name: String, _ e: Entry) {
        var e = e
        if let requested = e.driftRequested, e.lane == nil {
            e.driftRequested = nil
            e.nextDrift = min(e.nextDrift, requested)
        }
        if e.removed && !e.queued.contains(.prune) { entries[name] = nil } else { entries[name] = e }
    }

    /// Exponential backoff with ±20% jitter between the minimum and the maximum.
    mutating func backoff(_ failures: Int) -> Duration {
        let base = settings.backoffMin * Double(1 << min(max(failures - 1, 0), 20))
        return min(settings.backoffMax, base) * random.jitter(0.2)
    }

    /// The time each reconcile handed out since the last call waited in the queue, and the time
    /// each one that ended took.
    public mutating func takeTimings() -> (queued: [Duration], worked: [Duration]) {
        defer { queueWaits = []; workTimes = [] }
        return (queueWaits, workTimes)
    }

    private static func keep(_ list: inout [Duration], _ value: Duration) {
        if list.count >= maxTimings { list.removeFirst(list.count - maxTimings + 1) }
        list.append(value)
    }
}
