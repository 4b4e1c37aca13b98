/// reclaw's defaults for every optional spec field (docs/spec-reference.md), used by both the schema and the
/// typed model so the two cannot disagree.
public enum SpecDefaults {
    public static let vpcCidr = "10.0.0.0/16"
    public static let publicSubnetCidr = "10.0.1.0/24"
    public static let privateSubnetCidr = "10.0.2.0/24"
    public static let vpcEndpoints = ["bedrock-runtime", "ssm", "ssmmessages", "ec2messages"]
    public static let instanceType = "t4g.medium"
    public static let rootVolumeGiB = 30
    public static let model = "global.amazon.nova-2-lite-v1:0"
    public static let gatewayPort = 18789
    public static let managedPolicies = ["AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy"]
    public static let marketplaceSubscribe = true
    public static let drift = "correct"
    public static let allowReplace = false
    /// Canonical's Ubuntu 24.04 AMI parameter; {arch} is arm64 or amd64.
    public static let imageParameter = "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"

    /// The region's first zone.
    public static func availabilityZone(in region: String) -> String { region + "a" }
}
