import Foundation
import ReclawEngine
import ReclawProviderAWS

/// How the daemon runs.
public struct DaemonOptions: Sendable {
    /// How often the source is fetched (±10% jitter).
    public var interval: Duration
    /// How often each deployment is compared with its last applied revision.
    public var driftInterval: Duration
    /// Destroy deployments whose spec left the repository.
    public var prune: Bool
    /// Deployments reconciled at once (the work queue's workers).
    public var concurrency: Int
    /// The same alert is not sent twice within this window.
    public var alertWindow: Duration
    /// When pending drift attributions are looked up again, counted from when the drift was found,
    /// after CloudTrail's delivery schedule (about 5 minutes, up to 15); after the last, the drift
    /// is reported unattributed.
    public var attributionSchedule: [Duration]
    /// The longest a fetch of the source may take.
    public var fetchTimeout: Duration
    /// The backoff of a failing deployment: from `backoffMin`, doubling, up to `backoffMax`.
    public var backoffMin: Duration
    public var backoffMax: Duration
    /// The operator's policy command, run on every plan with changes before it is applied.
    public var policy: PolicyGate?

    public init(interval: Duration = .seconds(60), driftInterval: Duration = .seconds(300), prune: Bool = false, concurrency: Int = 4,
                alertWindow: Duration = .seconds(3600), attributionSchedule: [Duration] = [.seconds(60), .seconds(300), .seconds(900)],
                fetchTimeout: Duration = .seconds(120), backoffMin: Duration = .seconds(10), backoffMax: Duration = .seconds(900),
                policy: PolicyGate? = nil) {
        self.interval = interval
        self.driftInterval = driftInterval
        self.prune = prune
        self.concurrency = max(1, concurrency)
        self.alertWindow = alertWindow
        self.attributionSchedule = attributionSchedule.isEmpty ? [.seconds(60)] : attributionSchedule
        self.fetchTimeout = fetchTimeout
        self.backoffMin = backoffMin
        self.backoffMax = backoffMax
        self.policy = policy
    }

    package var schedulerSettings: WorkScheduler.Settings {
        WorkScheduler.Settings(interval: interval, driftInterval: driftInterval, workers: concurrency, backoffMin: backoffMin, backoffMax: backoffMax)
    }
}

/// What one source pass did.
public struct PassReport: Sendable {
    public var revision: String?
    public var sourceError: String?
    /// Deployments whose plan had changes, with the apply's outcome.
    public var applied: [String: ApplyResult] = [:]
    public var invalid: [String] = []
    /// Spec files that cannot be read: the deployments they may hold are left alone.
    public var unreadable: [String] = []
    /// Deployments that could not be planned, or whose state or audit record failed.
    public var planFailures: [String] = []
    public var pruned: [String] = []
    public var pruneRefused: String?
    /// Deployments stopped because their state or audit record cannot be written.
    public var stalled: [String] = []
    /// Deployments whose plan the policy command refused: nothing of it was applied.
    public var policyDenied: [String] = []

    public init() {}

    public var failed: Bool {
        sourceError != nil || !invalid.isEmpty || !unreadable.isEmpty || !planFailures.isEmpty || applied.values.contains { !$0.converged } || pruneRefused != nil
            || !stalled.isEmpty || !policyDenied.isEmpty
    }

    /// 1 on any failure, 2 when changes were applied, 0 when AWS already matched.
    public var exitCode: Int32 {
        if failed { return 1 }
        return applied.isEmpty && pruned.isEmpty ? 0 : 2
    }
}
