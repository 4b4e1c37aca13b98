/// The OpenClawDeployment document (docs/spec-reference.md) as a schema.
public enum SpecSchema {
    public static let apiVersion = "reclaw.dev/v1alpha1"
    public static let kind = "OpenClawDeployment"

    public static let namePattern = "^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
    public static let regionPattern = "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$"
    public static let zonePattern = "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+[a-z]$"
    /// Any IPv4 CIDR (`sshCidr`) without host bits: `10.0.0.1/16` is refused as reclaw refuses it.
    public static let cidrPattern = CIDRPattern.blocks(0...32)
    /// A VPC or subnet CIDR without host bits: AWS allows /16 to /28.
    public static let networkCidrPattern = CIDRPattern.blocks(16...28)
    /// Versions that are not pins.
    public static let unpinnedVersionPattern = "^([lL][aA][tT][eE][sS][tT]|[nN][eE][xX][tT])$"
    /// The rules of tag keys beyond their characters.
    public static let tagKeys = MapKeyRules(reservedPrefixes: ["aws:", "reclaw:"], reservedKeys: ["Name"], maxLength: 128,
                                            forbiddenCharacters: tagForbiddenCharacters)
    /// The characters tag keys and values may not hold, as far as JSON Schema can say: every
    /// ASCII character reclaw refuses; beyond ASCII reclaw alone tells letters, digits and spaces
    /// (`\\p{L}`, `\\p{N}`, `\\p{Z}`) from other characters. A search, not an anchored match, so
    /// that no engine's reading of `$` before a final line break matters.
    public static let tagForbiddenCharacters = "[\\x00-\\x1f!-*,;<>?\\[-^`{-\\x7f]"
    public static let instanceTypePattern = "^[a-z][a-z0-9-]*\\.[a-z0-9]+$"
    public static let imagePattern = "^(ssm:/[A-Za-z0-9_.\\-/]+|ami-([0-9a-f]{8}|[0-9a-f]{17}))$"
    public static let versionPattern = "^[0-9A-Za-z][0-9A-Za-z.+_-]*$"
    public static let modelPattern = "^(arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]{0,12}:[a-z-]+/[A-Za-z0-9.:_/-]+|[a-z0-9-]+(\\.[a-z0-9-]+)+(:[0-9a-z]+)*)$"
    public static let roleArnPattern = "^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"
    public static let managedPolicyPattern = "^([A-Za-z0-9+=,.@_-]+|arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/[A-Za-z0-9+=,.@_/-]+)$"
    public static let keyNamePattern = "^[ -~]{1,255}$"

    /// The endpoint services reclaw knows.
    public static let endpointServices = SpecDefaults.vpcEndpoints

    public static let document: SchemaType = .object([
        SchemaProperty("apiVersion", .enumeration([apiVersion]), required: true, "The spec format version."),
        SchemaProperty("kind", .enumeration([kind]), required: true, "The kind of document."),
        SchemaProperty("metadata", .object([
            SchemaProperty("name", .string(pattern: namePattern), required: true,
                           "The deployment's name: lowercase letters, digits and dashes, 2 to 32 characters, unique across the repository."),
        ]), required: true, "Identifies the deployment."),
        SchemaProperty("spec", .object([
            SchemaProperty("region", .string(pattern: regionPattern), required: true, "The AWS region, such as us-east-1."),
            SchemaProperty("roleArn", .string(pattern: roleArnPattern), nullable: true,
                           "An IAM role reclaw assumes for this deployment's AWS calls."),
            SchemaProperty("network", .object([
                SchemaProperty("vpcCidr", .string(pattern: networkCidrPattern), default: .string(SpecDefaults.vpcCidr), "The VPC's IPv4 CIDR, /16 to /28."),
                SchemaProperty("publicSubnetCidr", .string(pattern: networkCidrPattern), default: .string(SpecDefaults.publicSubnetCidr),
                               "The public subnet's CIDR, inside the VPC."),
                SchemaProperty("privateSubnetCidr", .string(pattern: networkCidrPattern), default: .string(SpecDefaults.privateSubnetCidr),
                               "The private subnet's CIDR, inside the VPC and disjoint from the public one."),
                SchemaProperty("availabilityZone", .string(pattern: zonePattern), nullable: true,
                               "The zone of both subnets; default: the region's first zone (REGIONa)."),
                SchemaProperty("vpcEndpoints", .array(.enumeration(endpointServices)), default: .array(SpecDefaults.vpcEndpoints.map { .string($0) }),
                               "Interface endpoints to create in the private subnet; [] for none."),
            ]), default: .object([:]), "The VPC, subnets and endpoints."),
            SchemaProperty("instance", .object([
                SchemaProperty("type", .string(pattern: instanceTypePattern), default: .string(SpecDefaults.instanceType), "The EC2 instance type."),
                SchemaProperty("image", .string(pattern: imagePattern), nullable: true,
                               "ssm:/PARAMETER naming an AMI, or ami-XXXXXXXX; default: Canonical's Ubuntu 24.04 parameter for the type's architecture."),
                SchemaProperty("rootVolumeGiB", .integer(minimum: 8, maximum: 16384), default: .int(SpecDefaults.rootVolumeGiB), "Size of the encrypted gp3 root volume."),
                SchemaProperty("sshCidr", .string(pattern: cidrPattern), nullable: true, default: nil,
                               "Allow SSH (tcp/22) from this CIDR; default: no inbound rule at all."),
                SchemaProperty("keyName", .string(pattern: keyNamePattern), nullable: true, default: nil, "An EC2 key pair; default: none."),
            ]), default: .object([:]), "The EC2 instance."),
            SchemaProperty("openclaw", .object([
                SchemaProperty("version", .string(pattern: versionPattern, maxLength: 64, notPattern: unpinnedVersionPattern), required: true,
                               "The pinned OpenClaw package version, such as \"2026.2.3\"."),
                SchemaProperty("model", .string(pattern: modelPattern, maxLength: 256), default: .string(SpecDefaults.model),
                               "The Bedrock model id or inference profile."),
                SchemaProperty("gatewayPort", .integer(minimum: 1024, maximum: 65535), default: .int(SpecDefaults.gatewayPort),
                               "The gateway's port on 127.0.0.1."),
            ]), required: true, "What runs on the instance."),
            SchemaProperty("iam", .object([
                SchemaProperty("managedPolicies", .array(.string(pattern: managedPolicyPattern), maxItems: 10),
                               default: .array(SpecDefaults.managedPolicies.map { .string($0) }),
                               "Managed policies attached to the instance role: AWS managed policy names or policy ARNs."),
                SchemaProperty("marketplaceSubscribe", .boolean, default: .bool(SpecDefaults.marketplaceSubscribe),
                               "Allow AWS Marketplace subscriptions made through Bedrock (aws:CalledViaLast)."),
            ]), default: .object([:]), "The instance role."),
            SchemaProperty("tags", .map(.string(maxLength: 256, notPattern: tagForbiddenCharacters), maxProperties: ReclawTags.maxSpecTags,
                                          note: "AWS allows \(ReclawTags.awsLimit) tags per resource and reclaw sets up to \(ReclawTags.mostOnOneResource) of its own, on the instance",
                                          keys: tagKeys), default: .object([:]),
                           "Tags added to every taggable resource."),
            SchemaProperty("policy", .object([
                SchemaProperty("drift", .enumeration(["correct", "alert"]), default: .string(SpecDefaults.drift),
                               "What to do about drift: correct it, or only alert."),
                SchemaProperty("allowReplace", .boolean, default: .bool(SpecDefaults.allowReplace),
                               "Allow replacing the instance, VPC or subnets when a change requires it."),
            ]), default: .object([:]), "How reclaw may act."),
        ]), required: true, "The desired deployment."),
    ])
}
