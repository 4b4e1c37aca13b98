import Foundation
import ReclawAudit
import ReclawController
import ReclawEvents
import ReclawState

extension ReconcileDaemon {
    /// How long a notice's attribution is kept for a drift check to use.
    static let noticeLifetime: TimeInterval = 900
    /// The most notices kept per deployment: a flood of events keeps only the latest.
    static let maxNotices = 200

    /// The deployment a resource id, role name or parameter name belongs to, from what reclaw last
    /// applied and observed; nil for a resource reclaw does not know.
    public func deployment(owning resource: String) -> String? {
        core.withLock { $0.resourceIndex[resource] }
    }

    /// Wakes the drift checks of the deployments the notices name. `handled` runs once every one
    /// of them has been checked (at once for a deployment this replica does not work on), so the
    /// caller can let go of what carried the notices (an SQS message) only then.
    public func notice(_ notices: [ChangeNotice], handled: @escaping @Sendable () async -> Void) async {
        // What the event says changed is read again by the check it wakes, not taken from the
        // slow-read cache (a VPC's DNS attributes, a profile's tags).
        await reconciler.invalidateSlowAttributes(resourceIDs: notices.flatMap { $0.resources + $0.targets })
        let now = clock.now()
        let date = clock.date()
        let pending = core.withLock { c -> Bool in
            var names: Set<String> = []
            for n in notices where c.scheduler.tracked.contains(n.deployment) {
                c.notices[n.deployment, default: []].append(n)
                c.notices[n.deployment]!.removeAll { date.timeIntervalSince($0.receivedAt) > Self.noticeLifetime }
                c.notices[n.deployment] = Array(c.notices[n.deployment]!.suffix(Self.maxNotices))
                c.scheduler.checkDrift(n.deployment, at: c.noticeChecks.due(n.deployment, now: now))
                names.insert(n.deployment)
            }
            guard !names.isEmpty else { return false }
            c.noticeWaits.append(NoticeWait(waiting: names, handled: handled))
            return true
        }
        if pending { post.yield(.wake) } else { await handled() }
    }

    /// The attributions of CloudTrail's events whose calls can have made these changes of a
    /// deployment. Those notices are used up: one event is the author of one drift, not of the
    /// next change to the same attribute.
    func takeAttributions(_ deployment: String, targets: [Authorship.Target]) -> [AuditEvent.Attribution] {
        let date = clock.date()
        return core.withLock { c in
            let live = (c.notices[deployment] ?? []).filter { date.timeIntervalSince($0.receivedAt) <= Self.noticeLifetime }
            let (used, kept) = live.reduce(into: ([ChangeNotice](), [ChangeNotice]())) { split, notice in
                if targets.contains(where: { notice.isAuthor(of: $0) }) { split.0.append(notice) } else { split.1.append(notice) }
            }
            c.notices[deployment] = kept.isEmpty ? nil : kept
            return used.map(\.attribution)
        }
    }

    /// Drift checks of `names` ended: the notices they answered are handled.
    func noticesChecked(_ names: Set<String>) async {
        let done = core.withLock { c -> [NoticeWait] in
            for i in c.noticeWaits.indices { c.noticeWaits[i].waiting.subtract(names) }
            let done = c.noticeWaits.filter { $0.waiting.isEmpty }
            c.noticeWaits.removeAll { $0.waiting.isEmpty }
            return done
        }
        for wait in done { await wait.handled() }
    }

    /// Remembers which deployment each of a status's resources belongs to.
    func index(_ status: DeploymentStatus) {
        let names = Set(status.resourceIDs.values).union(status.lastApplied?.components.compactMap(\.name) ?? [])
        core.withLock { c in
            for name in names { c.resourceIndex[name] = status.deployment }
        }
    }
}
