import ReclawEngine
import ReclawEvents

/// Which deployment each resource id belongs to, learned from observations and from events, so a
/// CloudTrail event naming only an association, a volume or a rule is mapped to its deployment.
extension ControllerState {
    /// Whether this daemon handles `deployment`'s drift checks, another replica does, or none.
    package func routing(_ deployment: String) -> EventRouting {
        if scheduler.tracked.contains(deployment) { return .here }
        return source.specs[deployment] != nil ? .elsewhere : .nowhere
    }

    /// Remembers the ids an observation found (each resource's, and those of the associations,
    /// volumes and route tables it names), so an event naming only one of them can be mapped.
    package mutating func index(observed: ObservedDeployment) {
        for resource in observed.resources.values.joined() {
            resourceIndex[resource.id] = observed.deployment
            var named: Set<String> = []
            AWSResourceIDs.collectIDs(.object(resource.details), into: &named)
            for id in named { resourceIndex[id] = observed.deployment }
            for id in named where id != resource.id { resourceAliases[id, default: []].insert(resource.id) }
        }
    }

    /// The resources these names stand for: themselves, and what an alias among them (an
    /// association, a volume, a rule) belongs to.
    package func resources(named names: [String]) -> [String] {
        Array(Set(names).union(names.flatMap { resourceAliases[$0] ?? [] })).sorted()
    }

    /// Remembers the rule, association, interface and volume ids an event about a deployment names
    /// (a security group rule's `sgr-` id comes with its group's), so a later event naming only them maps too.
    package mutating func index(eventNames names: [String], deployment: String) {
        let learned = names.filter { name in AWSResourceIDs.isAWSID(name) && AWSResourceIDs.learnedPrefixes.contains { name.hasPrefix($0) } }
        guard !learned.isEmpty else { return }
        // The known resources the same event named: what the learned ids belong to.
        let owners = Set(names.filter { !learned.contains($0) && resourceIndex[$0] == deployment && AWSResourceIDs.isAWSID($0) })
        for id in learned where resourceIndex[id] == nil || resourceIndex[id] == deployment {
            resourceIndex[id] = deployment
            if !owners.isEmpty { resourceAliases[id, default: []].formUnion(owners) }
        }
    }
}
