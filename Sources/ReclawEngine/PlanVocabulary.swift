import ReclawJSON

/// The words of a provider in plan JSON: each resource kind's type and its attributes under the
/// provider's names and shapes (docs/plan-json.md). `PlanJSON` lays the document out; the
/// provider says what things are called, so the engine holds no provider's vocabulary.
public protocol PlanVocabulary: Sendable {
    /// `provider_name` of every resource.
    var providerName: String { get }

    /// The resource type of a kind (in Terraform's words, the type of its resource block).
    func type(of kind: ResourceKind) -> String

    /// A resource's whole attribute object in the provider's names and shapes, from reclaw's
    /// (`id` and `tags` included). A value that holds an unresolved reference (`Ref`) keeps it
    /// where the value lands, so that the document can mark it as known only after apply.
    func attributes(_ values: [String: JSONValue], kind: ResourceKind) -> [String: JSONValue]

    /// Where one of reclaw's attributes lands in `attributes` (`cidr` → `["cidr_block"]`,
    /// `tags.Team` → `["tags", "Team"]`).
    func path(_ attribute: String, kind: ResourceKind) -> [JSONValue]
}

/// reclaw's own names, unchanged: for tests of the document's layout and for readers that want
/// the differ's words.
public struct ReclawVocabulary: PlanVocabulary {
    public init() {}

    public var providerName: String { "reclaw.dev/aws" }

    public func type(of kind: ResourceKind) -> String { kind.rawValue }

    public func attributes(_ values: [String: JSONValue], kind: ResourceKind) -> [String: JSONValue] { values }

    public func path(_ attribute: String, kind: ResourceKind) -> [JSONValue] {
        attribute.hasPrefix("tags.") ? ["tags", .string(String(attribute.dropFirst(5)))] : [.string(attribute)]
    }
}
