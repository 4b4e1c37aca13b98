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
    public func routing(_ deployment: String) -> EventRouting {
        core.withLock { c in
            if c.scheduler.tracked.contains(deployment) { return .here }
            return c.source.specs[deployment] != nil ? .elsewhere : .nowhere
        }
    }

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
    public func indexSharedStatuses() async {
        guard let leases else { return }
        let rows: [(lease: LeaseRecord, documents: [String: String])]
        do { rows = try await leases.table.leasesWithState() } catch {
            logger.warning("the lease table cannot be read to map CloudTrail's events", metadata: ["aws.error_code": "\(error.code)"])
            return
        }
        for (lease, documents) in rows {
            guard let text = documents["status"] else { continue }
            do { index(try StateStore.decoder.decode(DeploymentStatus.self, from: Data(text.utf8))) } catch {
                logger.debug("a status in the lease table cannot be read to map events", metadata: ["deployment": "\(lease.deployment)"])
            }
        }
    }

    /// Remembers the ids an observation found (each resource's, and those of the associations,
    /// volumes and route tables it names), so an event naming only one of them can be mapped.
    func index(observed: ObservedDeployment) {
        var ids: Set<String> = []
        var aliases: [String: Set<String>] = [:]
        for resource in observed.resources.values.joined() {
            ids.insert(resource.id)
            var named: Set<String> = []
            AWSResourceIDs.collectIDs(.object(resource.details), into: &named)
            ids.formUnion(named)
            for id in named where id != resource.id { aliases[id, default: []].insert(resource.id) }
        }
        let name = observed.deployment
        core.withLock { c in
            for id in ids { c.resourceIndex[id] = name }
            for (alias, owners) in aliases { c.resourceAliases[alias, default: []].formUnion(owners) }
        }
    }

    /// The resources these names stand for: themselves, and what an alias among them (an
    /// association, a volume, a rule) belongs to.
    public func resources(named names: [String]) -> [String] {
        core.withLock { c in
            Array(Set(names).union(names.flatMap { c.resourceAliases[$0] ?? [] })).sorted()
        }
    }

    /// Remembers the rule, association, interface and volume ids an event about a deployment names
    /// (a security group rule's `sgr-` id comes with its group's), so a later event naming only them maps too.
    public func index(eventNames names: [String], deployment: String) {
        let learned = names.filter { name in AWSResourceIDs.isAWSID(name) && AWSResourceIDs.learnedPrefixes.contains { name.hasPrefix($0) } }
        guard !learned.isEmpty else { return }
        core.withLock { c in
            // The known resources the same event named: what the learned ids belong to.
            let owners = Set(names.filter { !learned.contains($0) && c.resourceIndex[$0] == deployment && AWSResourceIDs.isAWSID($0) })
            for id in learned where c.resourceIndex[id] == nil || c.resourceIndex[id] == deployment {
                c.resourceIndex[id] = deployment
                if !owners.isEmpty { c.resourceAliases[id, default: []].formUnion(owners) }
            }
        }
    }
}
