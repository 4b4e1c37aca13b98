import ReclawEngine
import ReclawJSON

/// Each resource kind as the Terraform AWS provider describes it, once: its resource type and
/// where each of reclaw's attributes lands, under the provider's name and in its shape (blocks as
/// lists of objects, `-1` for all protocols, `tags` and `tags_all`). Plan JSON speaks these words
/// (docs/plan-json.md), so policy tools written for Terraform plans read reclaw's.
public struct TerraformVocabulary: PlanVocabulary {
    public init() {}

    public var providerName: String { "reclaw.dev/aws" }

    public func type(of kind: ResourceKind) -> String { Self.resource(kind).type }

    public func attributes(_ values: [String: JSONValue], kind: ResourceKind) -> [String: JSONValue] {
        let resource = Self.resource(kind)
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
                let attribute = resource.attributes[name] ?? TerraformAttribute([.string(name)])
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

    static func resource(_ kind: ResourceKind) -> TerraformResource {
        switch kind {
        case .vpc:
            return TerraformResource("aws_vpc", [
                "cidr": .init(["cidr_block"]), "enableDnsSupport": .init(["enable_dns_support"]),
                "enableDnsHostnames": .init(["enable_dns_hostnames"]),
            ])
        case .internetGateway:
            return TerraformResource("aws_internet_gateway", ["vpc": .init(["vpc_id"])])
        case .subnet:
            return TerraformResource("aws_subnet", [
                "vpc": .init(["vpc_id"]), "cidr": .init(["cidr_block"]), "availabilityZone": .init(["availability_zone"]),
                "mapPublicIpOnLaunch": .init(["map_public_ip_on_launch"]),
                // Not an attribute of the provider's subnet: what reclaw checks of the table that serves it.
                "internetGatewayRoutes": .init(["internet_gateway_routes"], .routes),
            ])
        case .routeTable:
            return TerraformResource("aws_route_table", [
                "vpc": .init(["vpc_id"]), "routes": .init(["route"], .routes),
                // The provider keeps associations in aws_route_table_association resources.
                "subnets": .init(["subnet_ids"]),
            ])
        case .securityGroup:
            return TerraformResource("aws_security_group", [
                "vpc": .init(["vpc_id"]), "groupName": .init(["name"]), "ingress": .init(["ingress"], .rules), "egress": .init(["egress"], .rules),
            ])
        case .vpcEndpoint:
            return TerraformResource("aws_vpc_endpoint", [
                "vpc": .init(["vpc_id"]), "serviceName": .init(["service_name"]), "privateDns": .init(["private_dns_enabled"]),
                "subnets": .init(["subnet_ids"]), "securityGroups": .init(["security_group_ids"]),
            ], fixed: ["vpc_endpoint_type": "Interface"])
        case .role:
            return TerraformResource("aws_iam_role", [
                "path": .init(["path"]), "trustPolicy": .init(["assume_role_policy"], .policyText),
                "managedPolicies": .init(["managed_policy_arns"]), "inlinePolicies": .init(["inline_policy"], .inlinePolicies),
                "permissionsBoundary": .init(["permissions_boundary"]),
            ], namedByID: true)
        case .instanceProfile:
            return TerraformResource("aws_iam_instance_profile", ["path": .init(["path"]), "roles": .init(["role"], .single)], namedByID: true)
        case .parameter:
            return TerraformResource("aws_ssm_parameter", ["type": .init(["type"]), "value": .init(["value"])], namedByID: true)
        case .instance:
            return TerraformResource("aws_instance", [
                "instanceType": .init(["instance_type"]), "image": .init(["ami"], .image), "subnet": .init(["subnet_id"]),
                "securityGroups": .init(["vpc_security_group_ids"]), "instanceProfile": .init(["iam_instance_profile"]),
                "httpTokens": .init(["metadata_options", 0, "http_tokens"]),
                "rootVolumeGiB": .init(["root_block_device", 0, "volume_size"]),
                "rootVolumeType": .init(["root_block_device", 0, "volume_type"]),
                "rootVolumeEncrypted": .init(["root_block_device", 0, "encrypted"]),
                "keyName": .init(["key_name"]),
                // Not an attribute of the provider's instance: the digest of the settings it converged to.
                "config": .init(["config_digest"]),
            ])
        }
    }
}

/// One kind's type, its attributes, and values it always has.
struct TerraformResource: Sendable {
    let type: String
    let attributes: [String: TerraformAttribute]
    let fixed: [String: JSONValue]
    /// The provider's `name` is the resource's id (IAM roles and profiles, SSM parameters).
    let namedByID: Bool

    init(_ type: String, _ attributes: [String: TerraformAttribute], fixed: [String: JSONValue] = [:], namedByID: Bool = false) {
        self.type = type
        self.attributes = attributes
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
