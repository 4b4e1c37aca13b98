import ReclawEngine

/// What `/healthz` answers: 200 when healthy, 503 otherwise, with the message (`ok`, then any
/// stalled deployment: `ok; stalled: NAME (REASON: …)`).
public struct HealthReport: Sendable {
    public var healthy: Bool
    public var message: String
    public init(healthy: Bool, message: String) {
        self.healthy = healthy
        self.message = message
    }
}

/// When the loop last completed a fetch and a drift check, for an honest /healthz.
package struct HealthTracker: Sendable {
    private(set) var lastFetch: Duration
    private(set) var lastDrift: Duration

    package init(started: Duration) {
        lastFetch = started
        lastDrift = started
    }

    package mutating func fetchCompleted(at now: Duration) { lastFetch = now }
    package mutating func driftCompleted(at now: Duration) { lastDrift = now }

    /// Unhealthy when shutting down, when no fetch completed within three intervals plus the fetch
    /// timeout, (with deployments to check) no drift check within three drift intervals, or while a
    /// deployment has no live replica owning it. A source held back (its newest revision refused
    /// for its signature, or its verified revision unreadable) is named like a stall: a restart
    /// does not fix it, so it never fails the liveness probe.
    package func report(now: Duration, options: DaemonOptions, tracked: Bool, shuttingDown: Bool, stalled: [String: String],
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

/// Why the source is held at the revision in force, for `/healthz`: a problem a restart does not
/// fix, named like a stalled deployment (`ok; source rejected: …`), never a liveness failure.
package enum SourceHold: Sendable {
    /// The newest revision is refused for its signature; the last verified one stays in force.
    case rejected(String)
    /// The last verified revision cannot be read from the state directory: nothing is applied.
    case stateUnreadable(String)

    var note: String {
        switch self {
        case .rejected(let why): return "source rejected: \(why); the last verified revision stays in force"
        case .stateUnreadable(let why): return "source held: \(why); nothing is applied until it can be read"
        }
    }
}
