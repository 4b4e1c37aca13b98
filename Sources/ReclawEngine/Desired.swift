import ReclawJSON

/// How a changed attribute can be brought back in line.
public enum UpdatePolicy: String, Sendable, Codable, Hashable {
    /// Changed in place (an API call on the existing resource).
    case inPlace
    /// Only by replacing the resource.
    case replace
    /// Set when the resource is created, never compared afterwards.
    case createOnly
}

/// One desired attribute: its value (possibly holding references to other components' ids), how
/// it can change, and whether it must never be shown.
public struct DesiredAttribute: Sendable, Hashable, Codable {
    public var value: JSONValue
    public var update: UpdatePolicy
    public var sensitive: Bool

    public init(_ value: JSONValue, _ update: UpdatePolicy = .inPlace, sensitive: Bool = false) {
        self.value = value
        self.update = update
        self.sensitive = sensitive
    }
}

/// A reference to another component's resource id inside an attribute value: `{"$ref": "network"}`.
public enum Ref {
    public static func to(_ key: ComponentKey) -> JSONValue { ["$ref": .string(key)] }

    /// The component a value refers to, when it is a reference.
    public static func target(_ value: JSONValue) -> ComponentKey? {
        if case .object(let o) = value, o.count == 1, let k = o["$ref"]?.stringValue { return k }
        return nil
    }

    /// Replaces every reference whose id is known; unknown ones stay references.
    public static func resolve(_ value: JSONValue, ids: [ComponentKey: String]) -> JSONValue {
        if let key = target(value) { return ids[key].map { .string($0) } ?? value }
        switch value {
        case .array(let a): return .array(a.map { resolve($0, ids: ids) })
        case .object(let o): return .object(o.mapValues { resolve($0, ids: ids) })
        default: return value
        }
    }

    /// Whether a value still holds a reference (so it is "known after apply").
    public static func isUnresolved(_ value: JSONValue) -> Bool {
        if target(value) != nil { return true }
        switch value {
        case .array(let a): return a.contains(where: isUnresolved)
        case .object(let o): return o.values.contains(where: isUnresolved)
        default: return false
        }
    }
}

/// One component of the desired graph: what AWS resource should exist, with which attributes and
/// tags, after which other components.
public struct DesiredComponent: Sendable, Hashable, Codable {
    public var key: ComponentKey
    public var kind: ResourceKind
    public var dependsOn: [ComponentKey]
    public var attributes: [String: DesiredAttribute]
    public var tags: [String: String]
    /// A name the resource is found or created by, when it has one (a role, a parameter).
    public var name: String?

    public init(key: ComponentKey, kind: ResourceKind, dependsOn: [ComponentKey] = [], attributes: [String: DesiredAttribute],
                tags: [String: String], name: String? = nil) {
        self.key = key
        self.kind = kind
        self.dependsOn = dependsOn
        self.attributes = attributes
        self.tags = tags
        self.name = name
    }
}

/// Everything one deployment should consist of, in dependency order.
public struct DesiredGraph: Sendable, Hashable, Codable {
    public var deployment: String
    public var region: String
    public var components: [DesiredComponent]

    public init(deployment: String, region: String, components: [DesiredComponent]) {
        self.deployment = deployment
        self.region = region
        self.components = components
    }

    public subscript(key: ComponentKey) -> DesiredComponent? { components.first { $0.key == key } }

    public var keys: [ComponentKey] { components.map(\.key) }
}
