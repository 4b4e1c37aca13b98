import ReclawEngine
import ReclawJSON

/// The kinds of AWS resource an OpenClaw deployment is made of; each is declared once, in
/// `Declarations`.
extension ResourceKind {
    public static let vpc = ResourceKind("vpc")
    public static let internetGateway = ResourceKind("internetGateway")
    public static let subnet = ResourceKind("subnet")
    public static let routeTable = ResourceKind("routeTable")
    public static let securityGroup = ResourceKind("securityGroup")
    public static let vpcEndpoint = ResourceKind("vpcEndpoint")
    public static let role = ResourceKind("role")
    public static let instanceProfile = ResourceKind("instanceProfile")
    public static let parameter = ResourceKind("parameter")
    public static let instance = ResourceKind("instance")

    /// Every kind, in the order the declarations list them.
    public static var allCases: [ResourceKind] { Declarations.all.map(\.kind) }

    /// IAM is global: the role and instance profile serve the deployment in every region.
    public var isGlobal: Bool { Declarations[self]?.isGlobal ?? false }

    /// The CloudFormation-style type name used in audit events (`AWS::EC2::VPC`).
    public var typeName: String { Declarations[self]?.cloudFormationType ?? rawValue }
}

/// The attributes reclaw compares, by name: one spelling for the graph builder, the schema, the
/// observer and the drivers.
public enum AttributeKey: String, Sendable, Hashable, CaseIterable {
    case cidr, enableDnsSupport, enableDnsHostnames
    case vpc, availabilityZone, mapPublicIpOnLaunch, internetGatewayRoutes
    case routes, subnets
    case groupName, ingress, egress
    case serviceName, privateDns, securityGroups
    case path, trustPolicy, managedPolicies, inlinePolicies, permissionsBoundary
    case roles
    case type, value
    case instanceType, image, subnet, instanceProfile, httpTokens, rootVolumeGiB, rootVolumeType, rootVolumeEncrypted, keyName, config
    /// What the image reference resolved to when the instance was planned: set at creation only.
    case imageId, imageArchitecture, rootDeviceName
}

/// One attribute of a kind, declared once: how it changes, how it compares, and where it lands in
/// the Terraform AWS provider's words.
public struct AttributeDeclaration: Sendable {
    public let key: AttributeKey
    /// What a change of it takes (in place, a replacement, nothing after creation).
    public let update: UpdatePolicy
    public let rule: AttributeRule
    let terraform: TerraformAttribute

    init(_ key: AttributeKey, _ path: [PathStep], _ shape: TerraformShape = .same, update: UpdatePolicy = .inPlace,
         compare: Comparison = .exact, secrecy: Secrecy = .never) {
        self.key = key
        self.update = update
        self.rule = AttributeRule(compare, secrecy: secrecy)
        self.terraform = TerraformAttribute(path.map(\.json), shape)
    }
}

/// A step of a Terraform attribute path: a name or a list index.
enum PathStep: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, Sendable {
    case name(String), index(Int)
    init(stringLiteral value: String) { self = .name(value) }
    init(integerLiteral value: Int) { self = .index(value) }
    var json: JSONValue {
        switch self {
        case .name(let s): return .string(s)
        case .index(let i): return .int(i)
        }
    }
}

/// One kind, declared once: its CloudFormation and Terraform types, whether it is global, and
/// its attributes.
public struct KindDeclaration: Sendable {
    public let kind: ResourceKind
    public let cloudFormationType: String
    public let isGlobal: Bool
    public let attributes: [AttributeKey: AttributeDeclaration]
    let terraform: TerraformResource

    init(_ kind: ResourceKind, _ cloudFormationType: String, terraform: String, fixed: [String: JSONValue] = [:], namedByID: Bool = false,
         isGlobal: Bool = false, _ attributes: [AttributeDeclaration]) {
        self.kind = kind
        self.cloudFormationType = cloudFormationType
        self.isGlobal = isGlobal
        self.attributes = Dictionary(uniqueKeysWithValues: attributes.map { ($0.key, $0) })
        self.terraform = TerraformResource(terraform, fixed: fixed, namedByID: namedByID)
    }

    /// The declaration of an attribute by its name, when the kind has it.
    public func attribute(_ name: String) -> AttributeDeclaration? { AttributeKey(rawValue: name).flatMap { attributes[$0] } }
}
