import Foundation
import ReclawController

/// Whole passes run by hand, for `reclaw run --once` and for tests: each runs the same lanes the
/// service runs, on everything due or not, and returns when done. Deployments busy in the
/// service's own lanes are left to them.
extension ReconcileDaemon {
    /// Fetches the source and reconciles the deployments whose spec is new, changed, or not yet
    /// converged (backoff ignored).
    public func sourcePass() async -> PassReport {
        let fetch = await fetch()
        let now = clock.now()
        core.withLock { c in
            c.health.fetchCompleted(at: now)
        }
        var report = PassReport()
        report.revision = fetch.revision
        report.sourceError = fetch.error
        report.invalid = fetch.invalid
        report.unreadable = fetch.unreadable
        report.pruneRefused = fetch.pruneRefused
        guard fetch.error == nil else {
            report.stalled = stalledDeployments
            return report
        }
        let reconciled = await reconcileQueued()
        report.applied = reconciled.applied
        report.planFailures = reconciled.failures
        report.policyDenied = reconciled.policyDenied
        report.pruned = reconciled.pruned
        report.stalled = stalledDeployments
        return report
    }

    /// Checks every applied deployment for drift, corrects what its policy says to correct, and
    /// returns what was found.
    public func driftPass() async -> [DriftFinding] {
        let now = clock.now()
        let names = core.withLock { $0.scheduler.claimForDrift($0.scheduler.tracked.sorted(), now: now) }
        let result = await driftLane(names)
        let after = clock.now()
        core.withLock { c in
            c.scheduler.driftChecked(names, result.outcomes, now: after, lane: false)
            c.health.driftCompleted(at: after)
        }
        await noticesChecked(Set(names))
        _ = await reconcileQueued()
        return result.findings.sorted { $0.deployment < $1.deployment }
    }

    /// Deployments stopped because their state or audit record cannot be written.
    public var stalledDeployments: [String] { core.withLock { $0.stalled.keys.sorted() } }

    /// Looks up every pending drift attribution now, due or not.
    public func attributionPass() async {
        let pending: [String]
        do { pending = try attributions.deployments() } catch {
            logger.error("pending drift attributions cannot be listed", metadata: ["error": "\(error)"])
            return
        }
        let now = clock.now()
        let names = core.withLock { $0.scheduler.claimForAttribution(pending, now: now) }
        let next = await attributionLane(names, dueOnly: false)
        let after = clock.now()
        core.withLock { $0.scheduler.attributed(names, next: next, now: after, lane: false) }
    }

    /// Reconciles every queued deployment that is not busy, and waits for them.
    private func reconcileQueued() async -> ReconcileReport {
        let now = clock.now()
        let items = core.withLock { $0.scheduler.claimQueued(now: now) }
        guard !items.isEmpty else { return ReconcileReport() }
        let clock = clock
        return await reconcileLane(items) { name, outcome in
            let now = clock.now()
            self.core.withLock { $0.scheduler.reconciled(name, outcome, now: now) }
        }
    }
}
