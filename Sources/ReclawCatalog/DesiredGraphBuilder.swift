import ReclawEngine
import ReclawJSON
import ReclawSpec

/// Facts about the AWS account a deployment lives in, needed to write its policies, and the
/// settings its operator (not the spec's author) decides.
public struct DeploymentFacts: Sendable, Hashable {
    public var accountID: String
    public var partition: String
    /// The managed policy every role reclaw creates carries as its permissions boundary
    /// (`--permissions-boundary`). nil: roles get none, and a boundary already on a role is left alone.
    public var permissionsBoundary: String?

    public init(accountID: String, partition: String = "aws", permissionsBoundary: String? = nil) {
        self.accountID = accountID
        self.partition = partition
        self.permissionsBoundary = permissionsBoundary
    }
}

/// Turns a spec into the desired graph (the components of docs/contracts.md): every component, its attributes (with update
/// policies), its ownership tags and its dependencies.
public enum DesiredGraphBuilder {
    /// The instance tag holding the spec's image reference, so the AMI is resolved only once.
    public static let imageTag = ReclawTags.image
    /// The instance tag holding the digest of the OpenClaw settings it last converged to.
    public static let configTag = ReclawTags.config

    public static func roleName(_ deployment: String) -> String { "reclaw-\(deployment)-instance" }
    public static let iamPath = "/reclaw/"
    public static func parameterName(_ deployment: String, _ leaf: String) -> String { "/openclaw/\(deployment)/\(leaf)" }

    /// The digest of the settings the converge script applies.
    public static func configDigest(_ spec: DeploymentSpec) -> String {
        Digest.fnv1a("\(spec.openclaw.version)\n\(spec.openclaw.model)\n\(spec.openclaw.gatewayPort)")
    }

    public static func build(_ spec: DeploymentSpec, facts: DeploymentFacts) -> DesiredGraph {
        let name = spec.name
        func tags(_ key: ComponentKey) -> [String: String] { OwnershipTags.tags(deployment: name, component: key, extra: spec.tags) }
        // What a change of each attribute takes comes from the kind's declaration.
        func component(_ key: ComponentKey, _ values: [AttributeKey: JSONValue], override: [AttributeKey: DesiredAttribute] = [:],
                       name resourceName: String? = nil) -> DesiredComponent {
            let kind = Components.kind(of: key)!
            var attributes: [String: DesiredAttribute] = [:]
            for (attribute, value) in values {
                let declared = Declarations[kind]?.attributes[attribute]
                assert(declared != nil, "\(attribute) is not declared for \(kind)")
                attributes[attribute.rawValue] = DesiredAttribute(value, declared?.update ?? .inPlace)
            }
            for (attribute, desired) in override { attributes[attribute.rawValue] = desired }
            return DesiredComponent(key: key, kind: kind, dependsOn: Components.dependencies(of: key), attributes: attributes, tags: tags(key),
                                    name: resourceName)
        }
        let allTraffic: JSONValue = .array([rule("all", nil, nil, .string("0.0.0.0/0"))])
        var c: [DesiredComponent] = []
        c.append(component(Components.vpc, [
            .cidr: .string(spec.network.vpcCidr),
            .enableDnsSupport: true,
            .enableDnsHostnames: true,
        ]))
        c.append(component(Components.igw, [.vpc: Ref.to(Components.vpc)]))
        for (key, cidr, mapPublic) in [(Components.publicSubnet, spec.network.publicSubnetCidr, true), (Components.privateSubnet, spec.network.privateSubnetCidr, false)] {
            var attributes: [AttributeKey: JSONValue] = [
                .vpc: Ref.to(Components.vpc),
                .cidr: .string(cidr),
                .availabilityZone: .string(spec.network.availabilityZone),
                .mapPublicIpOnLaunch: .bool(mapPublic),
            ]
            // Whatever table serves the private subnet (its own, or the VPC's main table when it has
            // none) must not route to an internet gateway. Restored through private-rt: reclaw never
            // edits the main table, which it does not own.
            if !mapPublic { attributes[.internetGatewayRoutes] = [] }
            c.append(component(key, attributes))
        }
        c.append(component(Components.publicRouteTable, [
            .vpc: Ref.to(Components.vpc),
            .routes: [["destination": "0.0.0.0/0", "gateway": Ref.to(Components.igw)]],
            .subnets: [Ref.to(Components.publicSubnet)],
        ]))
        c.append(component(Components.privateRouteTable, [
            .vpc: Ref.to(Components.vpc),
            .routes: [],
            .subnets: [Ref.to(Components.privateSubnet)],
        ]))
        let ingress: JSONValue = spec.instance.sshCidr.map { .array([rule("tcp", 22, 22, .string($0))]) } ?? []
        c.append(component(Components.instanceSG, [
            .vpc: Ref.to(Components.vpc),
            .groupName: .string("\(name)-instance-sg"),
            .ingress: ingress,
            .egress: allTraffic,
        ]))
        if !spec.network.vpcEndpoints.isEmpty {
            c.append(component(Components.endpointSG, [
                .vpc: Ref.to(Components.vpc),
                .groupName: .string("\(name)-endpoint-sg"),
                .ingress: .array([rule("tcp", 443, 443, Ref.to(Components.instanceSG))]),
                .egress: allTraffic,
            ]))
            for service in spec.network.vpcEndpoints {
                c.append(component(Components.endpoint(service), [
                    .vpc: Ref.to(Components.vpc),
                    .serviceName: .string("com.amazonaws.\(spec.region).\(service)"),
                    .privateDns: true,
                    .subnets: [Ref.to(Components.privateSubnet)],
                    .securityGroups: [Ref.to(Components.endpointSG)],
                ]))
            }
        }
        var inline: [String: JSONValue] = [
            "bedrock": Policies.canonical(Policies.bedrock),
            "ssm-parameters": Policies.canonical(Policies.ssmParameters(partition: facts.partition, region: spec.region, account: facts.accountID, deployment: name)),
        ]
        if spec.iam.marketplaceSubscribe { inline["marketplace"] = Policies.canonical(Policies.marketplace) }
        let role = roleName(name)
        var roleAttributes: [AttributeKey: JSONValue] = [
            .path: .string(iamPath),
            .trustPolicy: Policies.canonical(Policies.trust),
            .managedPolicies: .array(spec.iam.managedPolicyArns.sorted().map { .string($0) }),
            .inlinePolicies: .object(inline),
        ]
        // Only compared when the operator gave one: without it reclaw neither sets nor removes a boundary.
        if let boundary = facts.permissionsBoundary { roleAttributes[.permissionsBoundary] = .string(boundary) }
        c.append(component(Components.role, roleAttributes, name: role))
        c.append(component(Components.instanceProfile, [
            .path: .string(iamPath),
            .roles: [.string(role)],
        ], name: role))
        let parameters: [(ComponentKey, String, String?)] = [
            (Components.gatewayToken, "gateway-token", nil),
            (Components.model, "model", spec.openclaw.model),
            (Components.version, "version", spec.openclaw.version),
            (Components.gatewayPort, "gateway-port", String(spec.openclaw.gatewayPort)),
        ]
        for (key, leaf, value) in parameters {
            let type: JSONValue = value == nil ? "SecureString" : "String"
            if let value {
                c.append(component(key, [.type: type, .value: .string(value)], name: parameterName(name, leaf)))
            } else {
                // The gateway token is generated once, on creation, and never read, shown or overwritten.
                c.append(component(key, [.type: type], override: [.value: DesiredAttribute(.null, .createOnly, sensitive: true)],
                                   name: parameterName(name, leaf)))
            }
        }
        c.append(component(Components.instance, [
            .instanceType: .string(spec.instance.type),
            .image: .string(spec.instance.image),
            .subnet: Ref.to(Components.publicSubnet),
            .securityGroups: [Ref.to(Components.instanceSG)],
            .instanceProfile: .string(role),
            .httpTokens: "required",
            .rootVolumeGiB: .int(spec.instance.rootVolumeGiB),
            .rootVolumeType: "gp3",
            .rootVolumeEncrypted: true,
            .keyName: spec.instance.keyName.map { .string($0) } ?? .null,
            .config: .string(configDigest(spec)),
        ]))
        // Keep only dependencies on components that exist in this deployment (no endpoint-sg without endpoints).
        let present = Set(c.map(\.key))
        for i in c.indices { c[i].dependsOn = c[i].dependsOn.filter(present.contains) }
        return DesiredGraph(deployment: name, region: spec.region, components: c)
    }

    /// A security group rule as reclaw compares it.
    public static func rule(_ proto: String, _ from: Int?, _ to: Int?, _ peer: JSONValue) -> JSONValue {
        var o: [String: JSONValue] = ["protocol": .string(proto), "peer": peer]
        if let from { o["fromPort"] = .int(from) }
        if let to { o["toPort"] = .int(to) }
        return .object(o)
    }
}
