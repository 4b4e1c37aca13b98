import ReclawEngine
import ReclawSpec

/// reclaw's ownership tags (docs/contracts.md, "Ownership tags").
public enum OwnershipTags {
    public static let deployment = ReclawTags.deployment
    public static let component = ReclawTags.component
    public static let name = ReclawTags.name

    public static func tags(deployment: String, component: ComponentKey, extra: [String: String]) -> [String: String] {
        var t = extra
        t[self.deployment] = deployment
        t[self.component] = component
        t[name] = "\(deployment)-\(component)"
        return t
    }
}

extension Normalize {
    /// Tags reclaw compares: all but AWS's own (`aws:`) and reclaw's internal bookkeeping tags.
    public static func comparableTags(_ tags: [String: String]) -> [String: String] {
        tags.filter { !$0.key.lowercased().hasPrefix("aws:") && $0.key != ReclawTags.image && $0.key != ReclawTags.config }
    }

    /// The tags a spec's author wrote: all but reclaw's ownership tags.
    public static func userTags(_ tags: [String: String]) -> [String: String] {
        tags.filter { !$0.key.hasPrefix("reclaw:") && $0.key != OwnershipTags.name }
    }
}
