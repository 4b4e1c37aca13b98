/// Every AWS operation reclaw can call, by service. `AWSClient` refuses anything not listed, so
/// this is the complete list, and the IAM policy shipped in deploy/iam is tested against it.
public enum AWSOperations {
    /// Operations the AWS layer speaks that no command calls yet, so the shipped policy does not
    /// grant them: DynamoDB's item calls for a leader lease between replicas. A command that starts
    /// calling one moves it into `byService`, and the policy test then asks for its statement.
    public static let notYetCalled: [AWSService: Set<String>] = [
        .dynamodb: ["GetItem", "PutItem", "DeleteItem", "UpdateItem", "Scan", "CreateTable", "DescribeTable"],
    ]

    /// The operations reclaw's commands call; the shipped IAM policy grants exactly these.
    public static let byService: [AWSService: Set<String>] = [
        .ec2: [
            // observe
            "DescribeVpcs", "DescribeSubnets", "DescribeInternetGateways", "DescribeRouteTables", "DescribeSecurityGroups",
            "DescribeVpcEndpoints", "DescribeInstances", "DescribeVolumes", "DescribeImages", "DescribeNetworkInterfaces",
            // network
            "CreateVpc", "ModifyVpcAttribute", "DeleteVpc",
            "CreateSubnet", "ModifySubnetAttribute", "DeleteSubnet",
            "CreateInternetGateway", "AttachInternetGateway", "DetachInternetGateway", "DeleteInternetGateway",
            "CreateRouteTable", "CreateRoute", "ReplaceRoute", "DeleteRoute", "AssociateRouteTable", "DisassociateRouteTable", "DeleteRouteTable",
            "CreateSecurityGroup", "DeleteSecurityGroup",
            "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
            "CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints",
            // instance
            "RunInstances", "StopInstances", "StartInstances", "TerminateInstances",
            "ModifyInstanceAttribute", "ModifyInstanceMetadataOptions", "ModifyVolume",
            // tags
            "CreateTags", "DeleteTags",
        ],
        .iam: [
            "GetAccountAuthorizationDetails", "ListInstanceProfiles", "ListInstanceProfileTags",
            "CreateRole", "DeleteRole", "UpdateAssumeRolePolicy", "TagRole", "UntagRole",
            "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
            "CreateInstanceProfile", "DeleteInstanceProfile", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile",
            "TagInstanceProfile", "UntagInstanceProfile",
        ],
        .sts: ["GetCallerIdentity", "AssumeRole", "AssumeRoleWithWebIdentity"],
        .ssm: [
            "GetParameter", "GetParameters", "PutParameter", "DeleteParameters", "AddTagsToResource", "RemoveTagsFromResource",
            "SendCommand", "GetCommandInvocation",
        ],
        .cloudtrail: ["LookupEvents"],
        .tagging: ["GetResources"],
    ]

    /// IAM actions AWS also checks when reclaw calls an operation (the Service Authorization
    /// Reference's "dependent actions"): passing the instance role, the private hosted zone behind
    /// an endpoint's private DNS, and the source identity set on an assumed role.
    public static let impliedActions: [String: Set<String>] = [
        "ec2:RunInstances": ["iam:PassRole"],
        "iam:AddRoleToInstanceProfile": ["iam:PassRole"],
        "ec2:CreateVpcEndpoint": ["route53:AssociateVPCWithHostedZone"],
        "ec2:ModifyVpcEndpoint": ["route53:AssociateVPCWithHostedZone"],
        "sts:AssumeRole": ["sts:SetSourceIdentity"],
    ]

    /// Calls authorized by something other than the caller's IAM policy: a web identity token
    /// is exchanged without AWS credentials, on the strength of the role's trust policy.
    public static let notAuthorizedByPolicy: Set<String> = ["sts:AssumeRoleWithWebIdentity"]

    /// Whether the AWS layer may send `operation` of `service`.
    public static func contains(_ service: AWSService, _ operation: String) -> Bool {
        byService[service]?.contains(operation) == true || notYetCalled[service]?.contains(operation) == true
    }

    /// The IAM action of an operation (`ec2:RunInstances`; the tagging API is `tag:`).
    public static func iamAction(_ service: AWSService, _ operation: String) -> String {
        "\(service == .tagging ? "tag" : service.rawValue):\(operation)"
    }

    /// Every IAM action reclaw's credentials need: its operations and what they imply.
    public static var iamActions: Set<String> {
        let own = Set(byService.flatMap { service, ops in ops.map { iamAction(service, $0) } })
        return own.union(own.flatMap { impliedActions[$0] ?? [] }).subtracting(notAuthorizedByPolicy)
    }
}
