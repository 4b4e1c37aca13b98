import ReclawEngine
import ReclawJSON

/// Each resource kind as the Terraform AWS provider describes it (declared in `Declarations`): its resource type and
/// where each of reclaw's attributes lands, under the provider's name and in its shape (blocks as
/// lists of objects, `-1` for all protocols, `tags` and `tags_all`). Plan JSON speaks these words
/// (docs/plan-json.md), so policy tools written for Terraform plans read reclaw's.
public struct TerraformVocabulary: PlanVocabulary {
    public init() {}

    public var providerName: String { "reclaw.dev/aws" }

    public func type(of kind: ResourceKind) -> String { Self.resource(kind).resource.type }

    public func attributes(_ values: [String: JSONValue], kind: ResourceKind) -> [String: JSONValue] {
        let (resource, attributes) = Self.resource(kind)
        var out = resource.fixed
        for (name, value) in values {
            switch name {
            case "id":
                out["id"] = value
                if resource.namedByID { out["name"] = value }
            case "tags":
                out["tags"] = value
                out["tags_all"] = value
            default:
                let attribute = attributes[name] ?? TerraformAttribute([.string(name)])
                TerraformShape.place(attribute.shape.apply(value), at: attribute.path, in: &out)
            }
        }
        return out
    }

    public func path(_ attribute: String, kind: ResourceKind) -> [JSONValue] {
        if attribute.hasPrefix("tags.") { return ["tags", .string(String(attribute.dropFirst(5)))] }
        return Self.resource(kind).attributes[attribute]?.path ?? [.string(attribute)]
    }

    // MARK: the resources

    /// A kind's Terraform resource and its attributes, from its declaration.
    static func resource(_ kind: ResourceKind) -> (resource: TerraformResource, attributes: [String: TerraformAttribute]) {
        guard let declaration = Declarations[kind] else { return (TerraformResource(kind.rawValue), [:]) }
        return (declaration.terraform, Dictionary(uniqueKeysWithValues: declaration.attributes.map { ($0.key.rawValue, $0.value.terraform) }))
    }
}

/// One kind's type, and values it always has.
struct TerraformResource: Sendable {
    let type: String
    let fixed: [String: JSONValue]
    /// The provider's `name` is the resource's id (IAM roles and profiles, SSM parameters).
    let namedByID: Bool

    init(_ type: String, fixed: [String: JSONValue] = [:], namedByID: Bool = false) {
        self.type = type
        self.fixed = fixed
        self.namedByID = namedByID
    }
}

/// Where one of reclaw's attributes lands, and in which shape.
struct TerraformAttribute: Sendable {
    let path: [JSONValue]
    let shape: TerraformShape

    init(_ path: [JSONValue], _ shape: TerraformShape = .same) {
        self.path = path
        self.shape = shape
    }
}
