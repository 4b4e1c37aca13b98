/// Decides which of the resources carrying a component's tags *is* that component. Tags are a claim
/// anyone allowed to tag resources can make; the id reclaw recorded when it created or adopted a
/// resource is not. So the recorded resource is kept, every other resource with the same
/// deployment and component tags is a look-alike (reported, never used, never deleted), and tags
/// alone pick a resource only when nothing is recorded and exactly one carries them.
public enum Identity {
    /// A component reclaw cannot tell apart from resources that carry its tags: it is neither
    /// created, changed nor deleted until an operator removes the extra tags.
    public struct Unidentified: Sendable, Hashable, Codable {
        /// The id reclaw recorded, when it recorded one (and it is not among the candidates).
        public var recordedID: String?
        /// The resources that carry the component's tags.
        public var candidates: [String]

        public init(recordedID: String?, candidates: [String]) {
            self.recordedID = recordedID
            self.candidates = candidates
        }

        /// What the operator reads in the plan, the status and the log.
        public func message(_ key: ComponentKey) -> String {
            let list = candidates.joined(separator: ", ")
            if let recordedID {
                return "\(key) is recorded as \(recordedID), which no longer carries its tags, and \(list) carr\(candidates.count == 1 ? "ies" : "y") them: "
                    + "reclaw neither uses nor deletes \(candidates.count == 1 ? "it" : "them"); remove reclaw's tags (reclaw:deployment, reclaw:component) "
                    + "from \(candidates.count == 1 ? "it" : "them") to let reclaw make \(key) again"
            }
            return "several resources carry the tags of \(key) (\(list)) and none is recorded as reclaw's: remove reclaw's tags "
                + "(reclaw:deployment, reclaw:component) from all but the one to keep"
        }
    }

    /// `observed` as found by tags, resolved against the ids reclaw recorded. `interrupted` names
    /// components whose create was in flight when reclaw stopped: the one resource carrying their
    /// tags is that create's, and is adopted even where an older id is recorded.
    public static func resolve(_ observed: ObservedDeployment, recorded: [ComponentKey: String],
                               interrupted: Set<ComponentKey> = []) -> ObservedDeployment {
        var out = ObservedDeployment(deployment: observed.deployment)
        for (key, found) in observed.resources where !found.isEmpty {
            let candidates = found.sorted { $0.id < $1.id }
            if let id = recorded[key], let mine = candidates.first(where: { $0.id == id }) {
                out.resources[key] = [mine]
                let others = candidates.filter { $0.id != id }
                if !others.isEmpty { out.lookAlikes[key] = others }
            } else if candidates.count == 1 && (recorded[key] == nil || interrupted.contains(key)) {
                out.resources[key] = candidates
            } else {
                out.lookAlikes[key] = candidates
                out.unidentified[key] = Unidentified(recordedID: recorded[key], candidates: candidates.map(\.id))
            }
        }
        return out
    }
}

/// A resource that carries a component's tags without being the resource reclaw recorded.
public struct LookAlike: Sendable, Hashable, Codable {
    public var key: ComponentKey
    public var resourceID: String
    /// The resource reclaw keeps for the component (nil when it cannot tell which).
    public var recordedID: String?

    public init(key: ComponentKey, resourceID: String, recordedID: String?) {
        self.key = key
        self.resourceID = resourceID
        self.recordedID = recordedID
    }
}

extension ObservedDeployment {
    /// Every look-alike, by component and id.
    public var lookAlikeList: [LookAlike] {
        lookAlikes.keys.sorted().flatMap { key in
            (lookAlikes[key] ?? []).map { LookAlike(key: key, resourceID: $0.id, recordedID: self[key]?.id) }
        }
    }
}

extension DriftItem {
    /// The attribute of a drift item that reports a look-alike (`DuplicateResource`): `expected` is
    /// the recorded resource's id, `actual` the look-alike's.
    public static let lookAlikeAttribute = "(duplicate)"

    public var isLookAlike: Bool { attribute == Self.lookAlikeAttribute }
}
