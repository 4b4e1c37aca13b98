/// Every AWS operation reclaw can call, by service. `AWSClient` refuses anything not listed, so
/// this is the complete list, and the IAM policy shipped in deploy/iam is tested against it.
public enum AWSOperations {
    /// The optional features whose calls are granted by an IAM policy of their own (each under
    /// deploy/iam), so a deployment that does not use them does not grant them.
    public enum Feature: String, Sendable, CaseIterable {
        /// Several replicas sharing deployments through a DynamoDB lease table.
        case replicas
        /// Drift checks woken by CloudTrail's events, read from an SQS queue an EventBridge rule feeds.
        case events
    }

    /// The operations of each optional feature.
    public static let byFeature: [Feature: [AWSService: Set<String>]] = [
        .replicas: [.dynamodb: ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan", "Query", "DescribeTable", "CreateTable", "UpdateTable"]],
        .events: [
            // the daemon: reading the queue; `reclaw events setup/teardown`: the queue and the rule
            .sqs: ["GetQueueUrl", "GetQueueAttributes", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                   "CreateQueue", "SetQueueAttributes", "DeleteQueue"],
            .events: ["DescribeRule", "ListTargetsByRule", "PutRule", "PutTargets", "RemoveTargets", "DeleteRule"],
        ],
    ]

    /// The operations reclaw's commands call; the shipped IAM policy grants exactly these.
    public static let byService: [AWSService: Set<String>] = [
        .ec2: [
            // observe
            "DescribeVpcs", "DescribeSubnets", "DescribeInternetGateways", "DescribeRouteTables", "DescribeSecurityGroups",
            "DescribeVpcEndpoints", "DescribeInstances", "DescribeVolumes", "DescribeImages", "DescribeNetworkInterfaces",
            "DescribeVpcAttribute", "DescribeIamInstanceProfileAssociations",
            // network
            "CreateVpc", "ModifyVpcAttribute", "DeleteVpc",
            "CreateSubnet", "ModifySubnetAttribute", "DeleteSubnet",
            "CreateInternetGateway", "AttachInternetGateway", "DetachInternetGateway", "DeleteInternetGateway",
            "CreateRouteTable", "CreateRoute", "ReplaceRoute", "DeleteRoute", "AssociateRouteTable", "ReplaceRouteTableAssociation", "DisassociateRouteTable", "DeleteRouteTable",
            "CreateSecurityGroup", "DeleteSecurityGroup",
            "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
            "CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints",
            // instance
            "RunInstances", "StopInstances", "StartInstances", "TerminateInstances",
            "ModifyInstanceAttribute", "ModifyInstanceMetadataOptions", "ModifyVolume",
            "AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation",
            // tags
            "CreateTags", "DeleteTags",
        ],
        .iam: [
            "GetAccountAuthorizationDetails", "ListInstanceProfiles", "ListInstanceProfileTags",
            "CreateRole", "DeleteRole", "UpdateAssumeRolePolicy", "PutRolePermissionsBoundary", "TagRole", "UntagRole",
            "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
            "CreateInstanceProfile", "DeleteInstanceProfile", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile",
            "TagInstanceProfile", "UntagInstanceProfile",
        ],
        .sts: ["GetCallerIdentity", "AssumeRole", "AssumeRoleWithWebIdentity"],
        .ssm: [
            "GetParameter", "GetParameters", "DescribeParameters", "PutParameter", "DeleteParameters", "AddTagsToResource", "RemoveTagsFromResource",
            "ListTagsForResource", "SendCommand", "GetCommandInvocation",
        ],
        .cloudtrail: ["LookupEvents"],
        .tagging: ["GetResources"],
    ]

    /// IAM actions AWS also checks when reclaw calls an operation (the Service Authorization
    /// Reference's "dependent actions"): passing the instance role, the private hosted zone behind
    /// an endpoint's private DNS, and the source identity set on an assumed role.
    public static let impliedActions: [String: Set<String>] = [
        "ec2:RunInstances": ["iam:PassRole"],
        "ec2:AssociateIamInstanceProfile": ["iam:PassRole"],
        "ec2:ReplaceIamInstanceProfileAssociation": ["iam:PassRole"],
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
        byService[service]?.contains(operation) == true || byFeature.values.contains { $0[service]?.contains(operation) == true }
    }

    /// The IAM action of an operation (`ec2:RunInstances`; the tagging API is `tag:`).
    public static func iamAction(_ service: AWSService, _ operation: String) -> String {
        "\(service == .tagging ? "tag" : service.rawValue):\(operation)"
    }

    /// Every IAM action reclaw's credentials need: its operations and what they imply.
    public static var iamActions: Set<String> { actions(byService) }

    /// The IAM actions an optional feature adds.
    public static func iamActions(_ feature: Feature) -> Set<String> { actions(byFeature[feature] ?? [:]) }

    static func actions(_ operations: [AWSService: Set<String>]) -> Set<String> {
        let own = Set(operations.flatMap { service, ops in ops.map { iamAction(service, $0) } })
        return own.union(own.flatMap { impliedActions[$0] ?? [] }).subtracting(notAuthorizedByPolicy)
    }
}
