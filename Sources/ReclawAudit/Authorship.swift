import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// Which CloudTrail calls can change which attribute of which kind of resource, and which
/// resource a call acts on. A record is the author of a drifted attribute only when its call is in
/// this table for the attribute and the drifted resource is the call's target (from its
/// `requestParameters`), never merely a name it mentions (a tag value, a rule's peer group).
public enum Authorship {
    /// A drifted attribute of one resource: what an author must have changed.
    public struct Target: Sendable, Hashable {
        public var kind: ResourceKind
        public var resourceID: String
        public var attribute: String

        public init(kind: ResourceKind, resourceID: String, attribute: String) {
            self.kind = kind
            self.resourceID = resourceID
            self.attribute = attribute
        }
    }

    static let ec2Tags: Set<String> = ["CreateTags", "DeleteTags"]

    /// Per kind, per attribute (`tags` for every `tags.KEY`, `(resource)` for a deleted resource),
    /// the calls that can change it.
    public static let table: [ResourceKind: [String: Set<String>]] = [
        .vpc: [
            "enableDnsSupport": ["ModifyVpcAttribute"], "enableDnsHostnames": ["ModifyVpcAttribute"],
            "tags": ec2Tags, "(resource)": ["DeleteVpc"],
        ],
        .internetGateway: [
            "vpc": ["AttachInternetGateway", "DetachInternetGateway"], "tags": ec2Tags, "(resource)": ["DeleteInternetGateway"],
        ],
        .subnet: [
            "mapPublicIpOnLaunch": ["ModifySubnetAttribute"],
            "internetGatewayRoutes": ["AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation"],
            "tags": ec2Tags, "(resource)": ["DeleteSubnet"],
        ],
        .routeTable: [
            "routes": ["CreateRoute", "DeleteRoute", "ReplaceRoute"],
            "subnets": ["AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation"],
            "tags": ec2Tags, "(resource)": ["DeleteRouteTable"],
        ],
        .securityGroup: [
            "ingress": ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "ModifySecurityGroupRules"],
            "egress": ["AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress", "ModifySecurityGroupRules"],
            "tags": ec2Tags, "(resource)": ["DeleteSecurityGroup"],
        ],
        .vpcEndpoint: [
            "privateDns": ["ModifyVpcEndpoint"], "subnets": ["ModifyVpcEndpoint"], "securityGroups": ["ModifyVpcEndpoint"],
            "tags": ec2Tags, "(resource)": ["DeleteVpcEndpoints"],
        ],
        .role: [
            "trustPolicy": ["UpdateAssumeRolePolicy"],
            "managedPolicies": ["AttachRolePolicy", "DetachRolePolicy"],
            "inlinePolicies": ["PutRolePolicy", "DeleteRolePolicy"],
            "permissionsBoundary": ["PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary"],
            "tags": ["TagRole", "UntagRole"], "(resource)": ["DeleteRole"],
        ],
        .instanceProfile: [
            "roles": ["AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile"],
            "tags": ["TagInstanceProfile", "UntagInstanceProfile"], "(resource)": ["DeleteInstanceProfile"],
        ],
        .parameter: [
            "value": ["PutParameter"], "tags": ["AddTagsToResource", "RemoveTagsFromResource"],
            "(resource)": ["DeleteParameter", "DeleteParameters"],
        ],
        .instance: [
            "instanceType": ["ModifyInstanceAttribute"], "securityGroups": ["ModifyInstanceAttribute"],
            "config": ["ModifyInstanceAttribute", "CreateTags", "DeleteTags"],
            "httpTokens": ["ModifyInstanceMetadataOptions"],
            "instanceProfile": ["AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation", "DisassociateIamInstanceProfile"],
            "tags": ec2Tags, "(resource)": ["TerminateInstances"],
        ],
    ]

    /// The calls that can change `attribute` of a resource of `kind`; empty for what no call
    /// changes in place (a replacement attribute, one reclaw does not know).
    public static func eventNames(kind: ResourceKind, attribute: String) -> Set<String> {
        let row = table[kind] ?? [:]
        return row[attribute.hasPrefix("tags.") ? "tags" : attribute] ?? []
    }

    /// Whether a call named `eventName` that acts on `targets` can have changed `target`.
    public static func isAuthor(eventName: String, targets: Set<String>, of target: Target) -> Bool {
        targets.contains(target.resourceID) && eventNames(kind: target.kind, attribute: target.attribute).contains(eventName)
    }

    /// Whether a CloudTrail record is the author of a change to `target`.
    public static func isAuthor(eventName: String, requestParameters: JSONValue?, of target: Target) -> Bool {
        isAuthor(eventName: eventName, targets: targets(requestParameters), of: target)
    }
}
