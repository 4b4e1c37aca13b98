import ReclawJSON

/// A resource as read back from AWS, with attributes normalized to the same shapes the desired
/// graph uses, so the two can be compared value for value.
public struct ObservedResource: Sendable, Hashable, Codable {
    public var key: ComponentKey
    public var kind: ResourceKind
    /// The resource id (as the provider names it: a generated id, a role or parameter name).
    public var id: String
    public var attributes: [String: JSONValue]
    /// Every tag on the resource.
    public var tags: [String: String]
    /// Facts that are shown or used but never compared (full names, states, a resolved image, a newer image...).
    public var details: [String: JSONValue]

    public init(key: ComponentKey, kind: ResourceKind, id: String, attributes: [String: JSONValue] = [:], tags: [String: String] = [:],
                details: [String: JSONValue] = [:]) {
        self.key = key
        self.kind = kind
        self.id = id
        self.attributes = attributes
        self.tags = tags
        self.details = details
    }
}

/// Every resource of one deployment found in AWS, by component. As observed, a key may hold
/// several resources carrying the same tags; `Identity.resolve` then keeps the one reclaw recorded
/// under `resources` and moves the others to `lookAlikes`, which are never used or deleted.
public struct ObservedDeployment: Sendable, Hashable, Codable {
    public var deployment: String
    public var resources: [ComponentKey: [ObservedResource]]
    /// Resources that carry a component's tags but are not the one reclaw recorded.
    public var lookAlikes: [ComponentKey: [ObservedResource]]
    /// Components that cannot be told apart from their look-alikes: nothing is done to them.
    public var unidentified: [ComponentKey: Identity.Unidentified]

    public init(deployment: String, resources: [ComponentKey: [ObservedResource]] = [:],
                lookAlikes: [ComponentKey: [ObservedResource]] = [:], unidentified: [ComponentKey: Identity.Unidentified] = [:]) {
        self.deployment = deployment
        self.resources = resources
        self.lookAlikes = lookAlikes
        self.unidentified = unidentified
    }

    /// The resource kept for a component.
    public subscript(key: ComponentKey) -> ObservedResource? { resources[key]?.first }

    /// Resource ids of the kept resources.
    public var ids: [ComponentKey: String] { resources.compactMapValues { $0.first?.id } }

    public var isEmpty: Bool { resources.values.allSatisfy(\.isEmpty) }

    public mutating func add(_ r: ObservedResource) { resources[r.key, default: []].append(r) }
}

/// Helpers that put observed values in the canonical shapes the differ compares.
public enum Normalize {
    /// A list compared as a set: unique and sorted by canonical text.
    public static func set(_ values: [JSONValue]) -> JSONValue {
        .array(Array(Set(values)).sorted { $0.description < $1.description })
    }

    public static func strings(_ values: [String]) -> JSONValue { set(values.map { .string($0) }) }
}
