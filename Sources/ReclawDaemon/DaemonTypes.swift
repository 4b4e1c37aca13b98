import Foundation
import ReclawEngine
import ReclawProviderAWS

/// How the daemon runs.
public struct DaemonOptions: Sendable {
    /// How often the source is fetched (±10% jitter).
    public var interval: Duration
    /// How often every deployment is compared with its last applied revision.
    public var driftInterval: Duration
    /// Destroy deployments whose spec left the repository.
    public var prune: Bool
    /// Deployments reconciled at once.
    public var concurrency: Int
    /// The same drift is not alerted twice within this window.
    public var alertWindow: Duration
    /// How often pending drift attributions are looked up again, and how many times.
    public var attributionInterval: Duration
    public var attributionAttempts: Int

    public init(interval: Duration = .seconds(60), driftInterval: Duration = .seconds(300), prune: Bool = false, concurrency: Int = 4,
                alertWindow: Duration = .seconds(3600), attributionInterval: Duration = .seconds(60), attributionAttempts: Int = 30) {
        self.interval = interval
        self.driftInterval = driftInterval
        self.prune = prune
        self.concurrency = max(1, concurrency)
        self.alertWindow = alertWindow
        self.attributionInterval = attributionInterval
        self.attributionAttempts = attributionAttempts
    }
}

/// What wakes the daemon up.
public enum DaemonTrigger: Sendable, Equatable {
    /// Fetch the source and reconcile (interval, SIGHUP, push notification, start).
    case fetch(String)
    /// Compare every deployment with its last applied revision.
    case drift
    /// Look pending drift attributions up in CloudTrail again.
    case attribution
}

/// What one source pass did.
public struct PassReport: Sendable {
    public var revision: String?
    public var sourceError: String?
    /// Deployments whose plan had changes, with the apply's outcome.
    public var applied: [String: ApplyResult] = [:]
    public var invalid: [String] = []
    public var planFailures: [String] = []
    public var pruned: [String] = []
    public var pruneRefused: String?

    public var failed: Bool {
        sourceError != nil || !invalid.isEmpty || !planFailures.isEmpty || applied.values.contains { !$0.converged } || pruneRefused != nil
    }

    /// 1 on any failure, 2 when changes were applied, 0 when AWS already matched.
    public var exitCode: Int32 {
        if failed { return 1 }
        return applied.isEmpty && pruned.isEmpty ? 0 : 2
    }
}

/// A drift whose author CloudTrail has not delivered yet.
struct PendingAttribution: Sendable {
    var finding: DriftFinding
    var since: Date
    var attempts: Int
}
