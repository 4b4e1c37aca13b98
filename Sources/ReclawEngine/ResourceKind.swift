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
