/// What the scheduler can tell about the work: when it next wakes, what is queued and running.
extension WorkScheduler {
    /// When something next becomes due that could start then; nil when nothing will without an
    /// outside event. Work held back by a busy lane or by full workers is left out: the end of
    /// the running work wakes the daemon anyway.
    public func nextWakeup() -> Duration? {
        guard !shuttingDown else { return nil }
        var times: [Duration] = []
        if !fetchRunning, let due = fetchDue { times.append(due) }
        let workersFree = entries.values.filter { $0.lane == .reconcile }.count < settings.workers
        for e in entries.values where e.lane == nil {
            if workersFree && !e.queued.isEmpty { times.append(e.notBefore ?? .zero) }
            if !driftRunning && isIdle(e) { times.append(e.nextDrift) }
            // As `next` starts them: an attribution waits for its deployment to be idle.
            if !attributionRunning && isIdle(e), let a = e.nextAttribution { times.append(a) }
        }
        return times.min()
    }

    /// Deployments waiting to be reconciled.
    public var depth: Int { entries.values.filter { $0.lane == nil && !$0.queued.isEmpty }.count }

    /// Deployments being handled, by any lane.
    public var running: Int { entries.values.filter { $0.lane != nil }.count }

    /// Whether anything is running (the fetch included).
    public var isBusy: Bool { fetchRunning || running > 0 }

    /// How long the longest-running deployment has been handled.
    public func longestRunning(now: Duration) -> Duration {
        entries.values.compactMap { $0.startedAt.map { now - $0 } }.max() ?? .zero
    }

    /// How long the reconciles running now have been running, summed (controller-runtime's
    /// `workqueue_unfinished_work_seconds`).
    public func unfinishedWork(now: Duration) -> Duration {
        entries.values.filter { $0.lane == .reconcile }.compactMap { $0.startedAt.map { max(.zero, now - $0) } }
            .reduce(.zero, +)
    }

    public func isBusy(_ name: String) -> Bool { entries[name]?.lane != nil }
    public func isQueued(_ name: String) -> Bool { entries[name]?.queued.isEmpty == false }
    public func failures(_ name: String) -> Int { entries[name]?.failures ?? 0 }
    public func nextDrift(_ name: String) -> Duration? { entries[name]?.nextDrift }
    public func nextAttribution(_ name: String) -> Duration? { entries[name]?.nextAttribution }
    public var tracked: Set<String> { Set(entries.keys) }
}
