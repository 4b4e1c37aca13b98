import ReclawSpec

/// The key of one component of a deployment (docs/contracts.md, "Components"): `instance`, `role`, ...
public typealias ComponentKey = String

/// What kind of resource a component is, named by its provider: the engine compares and orders
/// kinds, the provider (`ProviderSchema`) says what each one is.
public struct ResourceKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public var description: String { rawValue }
}

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
