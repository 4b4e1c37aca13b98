import Foundation

/// Which alerts went out recently, so the same one is not sent twice within a window. Entries
/// older than the window are forgotten, so the memory stays bounded however long the daemon runs.
struct AlertMemory: Sendable {
    let window: Duration
    private var sent: [String: Duration] = [:]

    init(window: Duration) {
        self.window = window
    }

    /// Whether an alert under `key` may go out now; if so, it is remembered.
    mutating func shouldSend(_ key: String, now: Duration) -> Bool {
        sent = sent.filter { now - $0.value < window }
        guard sent[key] == nil else { return false }
        sent[key] = now
        return true
    }

    /// Forgets every key of a deployment (it left the repository).
    mutating func forget(deployment: String) {
        sent = sent.filter { !$0.key.split(separator: "/").dropFirst().prefix(1).contains(Substring(deployment)) }
    }

    var count: Int { sent.count }
}

/// When the loop last completed a fetch and a drift check, for an honest /healthz.
struct HealthTracker: Sendable {
    private(set) var lastFetch: Duration
    private(set) var lastDrift: Duration

    init(started: Duration) {
        lastFetch = started
        lastDrift = started
    }

    mutating func fetchCompleted(at now: Duration) { lastFetch = now }
    mutating func driftCompleted(at now: Duration) { lastDrift = now }

    /// Unhealthy when shutting down, when no fetch completed within three intervals plus the fetch
    /// timeout, (with deployments to check) no drift check within three drift intervals, or while a
    /// deployment has no live replica owning it. A source held back (its newest revision refused
    /// for its signature, or its verified revision unreadable) is named like a stall: a restart
    /// does not fix it, so it never fails the liveness probe.
    func report(now: Duration, options: DaemonOptions, tracked: Bool, shuttingDown: Bool, stalled: [String: String],
                unowned: [String: String] = [:], sourceHeld: SourceHold? = nil) -> HealthReport {
        if shuttingDown { return HealthReport(healthy: false, message: "shutting down") }
        var problems: [String] = []
        let fetchLimit = options.interval * 3 + options.fetchTimeout
        if now - lastFetch > fetchLimit {
            problems.append("no fetch of the source has completed for \(Int((now - lastFetch).inSeconds))s (limit \(Int(fetchLimit.inSeconds))s)")
        }
        let driftLimit = options.driftInterval * 3
        if tracked && now - lastDrift > driftLimit {
            problems.append("no drift check has completed for \(Int((now - lastDrift).inSeconds))s (limit \(Int(driftLimit.inSeconds))s)")
        }
        for (name, why) in unowned.sorted(by: { $0.key < $1.key }) {
            problems.append("unowned: no live replica owns \(name) (\(why))")
        }
        let notes = (sourceHeld.map { [$0.note] } ?? []) + stalled.sorted { $0.key < $1.key }.map { "stalled: \($0.key) (\($0.value))" }
        if !problems.isEmpty { return HealthReport(healthy: false, message: (problems + notes).joined(separator: "; ")) }
        return HealthReport(healthy: true, message: (["ok"] + notes).joined(separator: "; "))
    }
}
