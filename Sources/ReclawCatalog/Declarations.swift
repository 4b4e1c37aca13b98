import ReclawEngine
import ReclawJSON

/// Every kind of resource of a deployment, declared once: its CloudFormation type (audit
/// events), its Terraform type and attribute names (plan JSON), whether it is global, and per
/// attribute what a change takes and how it compares.
public enum Declarations {
    public static let all: [KindDeclaration] = [
        KindDeclaration(.vpc, "AWS::EC2::VPC", terraform: "aws_vpc", [
            .init(.cidr, ["cidr_block"], update: .replace),
            // Private DNS of the endpoints needs both; read on a slower cadence (one call each per VPC).
            .init(.enableDnsSupport, ["enable_dns_support"]),
            .init(.enableDnsHostnames, ["enable_dns_hostnames"]),
        ]),
        KindDeclaration(.internetGateway, "AWS::EC2::InternetGateway", terraform: "aws_internet_gateway", [
            .init(.vpc, ["vpc_id"]),
        ]),
        KindDeclaration(.subnet, "AWS::EC2::Subnet", terraform: "aws_subnet", [
            .init(.vpc, ["vpc_id"], update: .replace),
            .init(.cidr, ["cidr_block"], update: .replace),
            .init(.availabilityZone, ["availability_zone"], update: .replace),
            .init(.mapPublicIpOnLaunch, ["map_public_ip_on_launch"]),
            // Not an attribute of the provider's subnet: what reclaw checks of the table that serves it.
            .init(.internetGatewayRoutes, ["internet_gateway_routes"], .routes, compare: .set),
        ]),
        KindDeclaration(.routeTable, "AWS::EC2::RouteTable", terraform: "aws_route_table", [
            .init(.vpc, ["vpc_id"], update: .replace),
            .init(.routes, ["route"], .routes, compare: .set),
            // The provider keeps associations in aws_route_table_association resources.
            .init(.subnets, ["subnet_ids"], compare: .set),
        ]),
        KindDeclaration(.securityGroup, "AWS::EC2::SecurityGroup", terraform: "aws_security_group", [
            .init(.vpc, ["vpc_id"], update: .replace),
            .init(.groupName, ["name"], update: .createOnly),
            .init(.ingress, ["ingress"], .rules, compare: .set),
            .init(.egress, ["egress"], .rules, compare: .set),
        ]),
        KindDeclaration(.vpcEndpoint, "AWS::EC2::VPCEndpoint", terraform: "aws_vpc_endpoint", fixed: ["vpc_endpoint_type": "Interface"], [
            .init(.vpc, ["vpc_id"], update: .replace),
            .init(.serviceName, ["service_name"], update: .replace),
            .init(.privateDns, ["private_dns_enabled"]),
            .init(.subnets, ["subnet_ids"], compare: .set),
            .init(.securityGroups, ["security_group_ids"], compare: .set),
        ]),
        KindDeclaration(.role, "AWS::IAM::Role", terraform: "aws_iam_role", namedByID: true, isGlobal: true, [
            .init(.path, ["path"], update: .replace),
            .init(.trustPolicy, ["assume_role_policy"], .policyText, compare: .canonical(Policies.canonical)),
            .init(.managedPolicies, ["managed_policy_arns"], compare: .set),
            .init(.inlinePolicies, ["inline_policy"], .inlinePolicies, compare: .canonical(Policies.canonicalByName)),
            // Only compared when the operator gave one: without it reclaw neither sets nor removes a boundary.
            .init(.permissionsBoundary, ["permissions_boundary"]),
        ]),
        KindDeclaration(.instanceProfile, "AWS::IAM::InstanceProfile", terraform: "aws_iam_instance_profile", namedByID: true, isGlobal: true, [
            .init(.path, ["path"], update: .replace),
            .init(.roles, ["role"], .single, compare: .set),
        ]),
        KindDeclaration(.parameter, "AWS::SSM::Parameter", terraform: "aws_ssm_parameter", namedByID: true, [
            .init(.type, ["type"], update: .replace),
            // A SecureString's value is never shown, whoever wrote it.
            .init(.value, ["value"], secrecy: .when(attribute: AttributeKey.type.rawValue, equals: "SecureString")),
        ]),
        KindDeclaration(.instance, "AWS::EC2::Instance", terraform: "aws_instance", [
            .init(.instanceType, ["instance_type"]),
            .init(.image, ["ami"], .image, update: .replace),
            .init(.subnet, ["subnet_id"], update: .replace),
            .init(.securityGroups, ["vpc_security_group_ids"], compare: .set),
            // The profile reclaw made; a swapped association is put back in place.
            .init(.instanceProfile, ["iam_instance_profile"]),
            .init(.httpTokens, ["metadata_options", 0, "http_tokens"]),
            .init(.rootVolumeGiB, ["root_block_device", 0, "volume_size"],
                  compare: .growOnly(GrowOnly(subject: "the root volume", unit: "GiB", because: "EBS volumes only grow"))),
            .init(.rootVolumeType, ["root_block_device", 0, "volume_type"]),
            // EBS cannot encrypt a volume in place: only a new instance (allowReplace) restores it.
            .init(.rootVolumeEncrypted, ["root_block_device", 0, "encrypted"], update: .replace),
            .init(.keyName, ["key_name"], update: .replace),
            // Not an attribute of the provider's instance: the digest of the settings it converged to.
            .init(.config, ["config_digest"]),
            // Not attributes of the provider's instance: the image the reference resolved to, passed to the create.
            .init(.imageId, ["imageId"], update: .createOnly),
            .init(.imageArchitecture, ["imageArchitecture"], update: .createOnly),
            .init(.rootDeviceName, ["rootDeviceName"], update: .createOnly),
        ]),
    ]

    static let byKind = Dictionary(uniqueKeysWithValues: all.map { ($0.kind, $0) })

    /// The declaration of a kind; nil for a kind the catalog does not know.
    public static subscript(kind: ResourceKind) -> KindDeclaration? { byKind[kind] }
}
