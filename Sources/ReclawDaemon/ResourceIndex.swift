import Foundation
import ReclawAWS
import ReclawEngine
import ReclawEvents
import ReclawLease
import ReclawState

/// What the event listener asks of the daemon beyond `notice`: which deployments and regions there
/// are, and more ways to tell which deployment a resource belongs to than what was applied.
extension ReconcileDaemon: ChangeEventTarget {
    /// The listener counts events in the daemon's metrics.
    public var eventCounters: any EventCounters { metrics }

    /// Whether the source has been read once: before that, no deployment is known to map events to.
    public var hasReadSource: Bool { core.withLock { $0.source.loaded } }

    /// The regions CloudTrail's events about the source's deployments arrive in: each deployment's
    /// region, and its partition's home region, where IAM's events are delivered.
    public var eventRegions: Set<String> {
        let regions = core.withLock { c in Set(c.source.specs.values.map(\.spec.region)) }
        return regions.union(regions.map { Partition(region: $0).globalRegion })
    }

    /// Whether this daemon handles `deployment`'s drift checks, another replica does, or none.
    public func routing(_ deployment: String) -> EventRouting { core.withLock { $0.routing(deployment) } }

    /// Indexes every status in the state directory, so events can be mapped before the first
    /// reconcile of this run has observed each deployment.
    public func indexStoredStatuses() {
        let scan: StatusScan
        do { scan = try reconciler.state.scan() } catch {
            logger.warning("the stored statuses cannot be listed to map CloudTrail's events; each deployment is mapped once it is reconciled",
                           metadata: ["error": "\(error)"])
            return
        }
        for status in scan.statuses { index(status) }
    }

    /// With replicas: indexes every deployment's status kept in the lease table, so an event about
    /// a deployment another replica holds is recognised, and handed back for that replica, rather
    /// than taken for a stranger's resource.
    @discardableResult
    public func indexSharedStatuses() async -> Bool {
        guard let leases else { return false }
        let rows: [(lease: LeaseRecord, documents: [String: String])]
        do { rows = try await leases.table.leasesWithState() } catch {
            logger.warning("the lease table cannot be read to map CloudTrail's events", metadata: ["aws.error_code": "\(error.code)"])
            return true
        }
        for (lease, documents) in rows {
            guard let text = documents["status"] else { continue }
            do { index(try StateStore.decoder.decode(DeploymentStatus.self, from: Data(text.utf8))) } catch {
                logger.debug("a status in the lease table cannot be read to map events", metadata: ["deployment": "\(lease.deployment)"])
            }
        }
        return true
    }

    /// Remembers the ids an observation found, so an event naming only one of them can be mapped.
    func index(observed: ObservedDeployment) { core.withLock { $0.index(observed: observed) } }

    /// The resources these names stand for: themselves, and what an alias among them belongs to.
    public func resources(named names: [String]) -> [String] { core.withLock { $0.resources(named: names) } }

    /// Remembers the rule, association, interface and volume ids an event about a deployment names.
    public func index(eventNames names: [String], deployment: String) {
        core.withLock { $0.index(eventNames: names, deployment: deployment) }
    }
}
