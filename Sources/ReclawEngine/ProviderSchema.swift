import ReclawJSON

/// What the engine knows of a provider's resources, all of it declared by the provider: the kind
/// and dependencies of each component, how each attribute compares, which kinds serve every region,
/// what must converge after a create, and what is worth noting about what it observed. The graph,
/// the differ, the plan and the executor work over this and nothing else of the provider.
public protocol ProviderSchema: Sendable {
    /// The kind of a component key; nil for keys the provider does not know.
    func kind(of key: ComponentKey) -> ResourceKind?

    /// The components a component depends on (those of them that exist in the deployment). One
    /// answer serves the desired graph and the deletion order of resources no longer desired.
    func dependencies(of key: ComponentKey) -> [ComponentKey]

    /// Whether a kind serves the deployment in every region (kept when a deployment moves).
    func isGlobal(_ kind: ResourceKind) -> Bool

    /// How one attribute of a kind is compared; `.exact` for attributes the provider does not declare.
    func rule(_ attribute: String, of kind: ResourceKind) -> AttributeRule

    /// Components that must converge again when another one is created.
    var convergences: [Convergence] { get }

    /// Facts about the observed deployment worth a note in the plan.
    func notes(_ observed: ObservedDeployment) -> [String]

    /// The kinds that serve every region, in words, for the note of a region move.
    var globalKindsInWords: String { get }

    /// The tags compared with the desired ones: all but the provider's own and bookkeeping tags.
    func comparableTags(_ tags: [String: String]) -> [String: String]

    /// The tags a creation shows: those the spec's author wrote, not the ownership tags.
    func userTags(_ tags: [String: String]) -> [String: String]
}

/// How one attribute is compared and shown.
public struct AttributeRule: Sendable {
    public var comparison: Comparison
    public var secrecy: Secrecy

    public init(_ comparison: Comparison = .exact, secrecy: Secrecy = .never) {
        self.comparison = comparison
        self.secrecy = secrecy
    }

    public static let exact = AttributeRule()
}

/// How the desired and the observed value of an attribute are brought to one shape before they
/// are compared. (An attribute set only at creation, write-only, is `UpdatePolicy.createOnly`;
/// one never shown is `DesiredAttribute.sensitive` or `Secrecy`.)
public enum Comparison: Sendable {
    /// Value for value.
    case exact
    /// A list whose order and repetitions mean nothing.
    case set
    /// A document put in the provider's canonical form first (a policy document).
    case canonical(@Sendable (JSONValue) -> JSONValue)
    /// A number that can only grow: a smaller desired value blocks the change.
    case growOnly(GrowOnly)
}

/// What the plan says when a grow-only attribute would shrink.
public struct GrowOnly: Sendable, Hashable {
    /// The thing that cannot shrink, as the sentence starts (`the root volume`).
    public var subject: String
    public var unit: String
    /// Why, in the provider's words.
    public var because: String

    public init(subject: String, unit: String, because: String) {
        self.subject = subject
        self.unit = unit
        self.because = because
    }

    /// Why the change is blocked: `the root volume cannot shrink (30 GiB → 20 GiB); ...`.
    public func blocked(have: Int, want: Int) -> String {
        "\(subject) cannot shrink (\(have) \(unit) → \(want) \(unit)); \(because)"
    }
}

/// When an observed value is never shown.
public enum Secrecy: Sendable, Hashable {
    case never
    /// When another attribute of the same resource holds a value (a parameter of a secret type).
    case when(attribute: String, equals: JSONValue)
}

/// A component that converges again when another is created: it is updated (its `attribute`
/// carried over as a change) so the new resource reaches it.
public struct Convergence: Sendable, Hashable {
    public var created: ComponentKey
    public var converging: ComponentKey
    public var attribute: String
    /// The reason the plan gives.
    public var reason: String

    public init(created: ComponentKey, converging: ComponentKey, attribute: String, reason: String) {
        self.created = created
        self.converging = converging
        self.attribute = attribute
        self.reason = reason
    }
}

extension ProviderSchema {
    /// A value in the shape it is compared in: sets sorted, documents canonical. A value that
    /// still holds a reference is left as it is.
    public func comparable(_ attribute: String, of kind: ResourceKind, _ value: JSONValue) -> JSONValue {
        guard !Ref.isUnresolved(value) else { return value }
        switch rule(attribute, of: kind).comparison {
        case .set:
            guard case .array(let items) = value else { return value }
            return Normalize.set(items)
        case .canonical(let canonical): return canonical(value)
        case .exact, .growOnly: return value
        }
    }

    /// Whether an observed attribute's value must never be shown.
    public func isSecret(_ attribute: String, of resource: ObservedResource) -> Bool {
        guard case .when(let other, let value) = rule(attribute, of: resource.kind).secrecy else { return false }
        return resource.attributes[other] == value
    }

    /// Keys ordered so every component comes after the components it depends on.
    public func creationOrder(_ keys: [ComponentKey]) -> [ComponentKey] {
        let present = Set(keys)
        var visited = Set<ComponentKey>()
        var out: [ComponentKey] = []
        func visit(_ k: ComponentKey) {
            guard present.contains(k), visited.insert(k).inserted else { return }
            for d in dependencies(of: k) { visit(d) }
            out.append(k)
        }
        for k in keys.sorted() { visit(k) }
        return out
    }

    /// Keys ordered so every component comes before the components it depends on.
    public func deletionOrder(_ keys: [ComponentKey]) -> [ComponentKey] {
        creationOrder(keys).reversed()
    }
}
