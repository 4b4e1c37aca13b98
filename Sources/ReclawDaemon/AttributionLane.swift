import Foundation
import ReclawAudit
import ReclawCatalog
import ReclawController
import ReclawEngine
import ReclawState

extension ReconcileDaemon {
    /// Keeps a drift whose author CloudTrail has not delivered yet, on disk, and schedules its
    /// next lookup on CloudTrail's delivery schedule.
    func remember(_ finding: DriftFinding, eventID: String, since: Date, corrected: Bool) async {
        let name = finding.deployment
        let found = clock.date()
        let item = PendingAttribution(id: eventID, deployment: name, region: finding.region, revision: finding.planned.plan.revision,
                                      planID: finding.planned.plan.id, items: finding.items, since: since, foundAt: found,
                                      nextAttemptAt: found.addingTimeInterval(options.attributionSchedule[0].inSeconds), corrected: corrected)
        do {
            try attributions.save(name, try attributions.load(name) + [item])
        } catch {
            await stall(name, .stateUnavailable, "its pending attributions cannot be kept: \(error)", revision: finding.planned.plan.revision)
            return
        }
        let due = monotonic(item.nextAttemptAt)
        core.withLock { $0.scheduler.attribution(name, dueAt: min(due, $0.scheduler.nextAttribution(name) ?? due)) }
        await share([name])
    }

    /// Registers the attributions left pending by an earlier run with the scheduler.
    func scheduleAttributions() async {
        let names: [String]
        do { names = try attributions.deployments() } catch {
            logger.error("pending drift attributions cannot be listed", metadata: ["error": "\(error)"])
            return
        }
        for name in names {
            do {
                let pending = try attributions.load(name)
                if let next = pending.map(\.nextAttemptAt).min() {
                    let due = monotonic(next)
                    core.withLock { $0.scheduler.attribution(name, dueAt: due) }
                }
            } catch {
                await stall(name, .stateUnavailable, "its pending attributions cannot be read: \(error)", revision: nil)
            }
        }
    }

    /// Looks up in CloudTrail who caused each deployment's pending drift (all of it, or only what
    /// is due). Found: a DriftAttributed event. Not found after the last scheduled lookup: the drift
    /// is reported unattributed. Returns each deployment's next due time.
    func attributionLane(_ names: [String], dueOnly: Bool) async -> [String: Duration] {
        var next: [String: Duration] = [:]
        let checker = driftChecker
        for name in names {
            let pending: [PendingAttribution]
            do { pending = try attributions.load(name) } catch {
                await stall(name, .stateUnavailable, "its pending attributions cannot be read: \(error)", revision: nil)
                continue
            }
            var keep: [PendingAttribution] = []
            for var item in pending {
                let now = clock.date()
                if dueOnly && item.nextAttemptAt > now {
                    keep.append(item)
                    continue
                }
                let (who, status) = await checker.attribution(of: item.items, region: item.region, since: item.since)
                if status == "attributed" {
                    await emit(attributed(item, who: who, status: status), alertKey: nil, force: true)
                    metrics.reconciled(deployment: name, kind: "attribution", result: .success, seconds: 0)
                    continue
                }
                item.attempts += 1
                if item.attempts < options.attributionSchedule.count {
                    item.nextAttemptAt = item.foundAt.addingTimeInterval(options.attributionSchedule[item.attempts].inSeconds)
                    keep.append(item)
                    metrics.reconciled(deployment: name, kind: "attribution", result: .requeue, seconds: 0)
                } else {
                    logger.warning("CloudTrail never showed who made the drift; it stays unattributed", metadata: ["deployment": "\(name)"])
                    await emit(attributed(item, who: [], status: "unattributed"), alertKey: nil)
                    metrics.reconciled(deployment: name, kind: "attribution", result: .failure, seconds: 0)
                }
            }
            do { try attributions.save(name, keep) } catch {
                await stall(name, .stateUnavailable, "its pending attributions cannot be kept: \(error)", revision: nil)
                continue
            }
            if let due = keep.map(\.nextAttemptAt).min() { next[name] = monotonic(due) }
        }
        await share(names)
        return next
    }

    /// The DriftAttributed event completing a drift event.
    private func attributed(_ item: PendingAttribution, who: [AuditEvent.Attribution], status: String) -> AuditEvent {
        let summary = item.items.map { "\($0.key)\($0.resourceID.map { " (\($0))" } ?? "") \($0.attribute)" }.joined(separator: ", ")
        let message = who.isEmpty
            ? "\(item.deployment): CloudTrail never showed who made the drift on \(summary); it stays unattributed"
            : "\(item.deployment): the drift on \(summary) was made by "
                + who.map { "\($0.userIdentityArn ?? "unknown") (\($0.eventName) at \($0.eventTime), CloudTrail event \($0.cloudTrailEventID))" }.joined(separator: "; ")
        return AuditEvent(type: .driftAttributed, time: clock.date(), deployment: item.deployment, revision: item.revision, planID: item.planID,
                          awsRegion: item.region,
                          resources: item.items.compactMap { i in i.resourceID.map { .init(type: Components.kind(of: i.key)?.typeName ?? "", name: $0) } },
                          diff: DriftFinding.diff(of: item.items), attribution: who, attributionStatus: status, message: message,
                          details: ["driftEventID": .string(item.id), "corrected": .bool(item.corrected)])
    }

    /// The monotonic time at which a wall-clock date comes.
    func monotonic(_ date: Date) -> Duration {
        clock.now() + .milliseconds(Int64((date.timeIntervalSince(clock.date()) * 1000).rounded()))
    }
}
