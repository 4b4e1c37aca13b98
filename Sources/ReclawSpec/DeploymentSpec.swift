/// One OpenClaw deployment as the repository declares it, with every default applied.
public struct DeploymentSpec: Sendable, Hashable, Codable {
    public var name: String
    public var region: String
    public var roleArn: String?
    public var network: Network
    public var instance: Instance
    public var openclaw: OpenClaw
    public var iam: IAM
    public var tags: [String: String]
    public var policy: Policy

    public init(name: String, region: String, roleArn: String? = nil, network: Network, instance: Instance,
                openclaw: OpenClaw, iam: IAM = IAM(), tags: [String: String] = [:], policy: Policy = Policy()) {
        self.name = name
        self.region = region
        self.roleArn = roleArn
        self.network = network
        self.instance = instance
        self.openclaw = openclaw
        self.iam = iam
        self.tags = tags
        self.policy = policy
    }

    /// The VPC, its subnets and endpoints.
    public struct Network: Sendable, Hashable, Codable {
        public var vpcCidr: String
        public var publicSubnetCidr: String
        public var privateSubnetCidr: String
        public var availabilityZone: String
        public var vpcEndpoints: [String]

        /// A network in `region`; nil arguments take reclaw's defaults.
        public init(region: String, vpcCidr: String? = nil, publicSubnetCidr: String? = nil,
                    privateSubnetCidr: String? = nil, availabilityZone: String? = nil, vpcEndpoints: [String]? = nil) {
            self.vpcCidr = vpcCidr ?? SpecDefaults.vpcCidr
            self.publicSubnetCidr = publicSubnetCidr ?? SpecDefaults.publicSubnetCidr
            self.privateSubnetCidr = privateSubnetCidr ?? SpecDefaults.privateSubnetCidr
            self.availabilityZone = availabilityZone ?? SpecDefaults.availabilityZone(in: region)
            self.vpcEndpoints = vpcEndpoints ?? SpecDefaults.vpcEndpoints
        }
    }

    /// The EC2 instance.
    public struct Instance: Sendable, Hashable, Codable {
        public var type: String
        /// `ssm:/parameter` or an AMI id.
        public var image: String
        public var rootVolumeGiB: Int
        public var sshCidr: String?
        public var keyName: String?

        /// An instance; nil arguments take reclaw's defaults.
        public init(type: String? = nil, image: String? = nil, rootVolumeGiB: Int? = nil,
                    sshCidr: String? = nil, keyName: String? = nil) {
            let type = type ?? SpecDefaults.instanceType
            self.type = type
            self.image = image ?? InstanceTypes.defaultImage(for: type)
            self.rootVolumeGiB = rootVolumeGiB ?? SpecDefaults.rootVolumeGiB
            self.sshCidr = sshCidr
            self.keyName = keyName
        }

        /// The SSM parameter naming the AMI, when the image is given that way.
        public var imageParameter: String? {
            image.hasPrefix("ssm:") ? String(image.dropFirst(4)) : nil
        }
    }

    /// What runs on the instance.
    public struct OpenClaw: Sendable, Hashable, Codable {
        public var version: String
        public var model: String
        public var gatewayPort: Int

        public init(version: String, model: String? = nil, gatewayPort: Int? = nil) {
            self.version = version
            self.model = model ?? SpecDefaults.model
            self.gatewayPort = gatewayPort ?? SpecDefaults.gatewayPort
        }
    }

    /// The instance role's policies.
    public struct IAM: Sendable, Hashable, Codable {
        public var managedPolicies: [String]
        public var marketplaceSubscribe: Bool

        public init(managedPolicies: [String]? = nil, marketplaceSubscribe: Bool? = nil) {
            self.managedPolicies = managedPolicies ?? SpecDefaults.managedPolicies
            self.marketplaceSubscribe = marketplaceSubscribe ?? SpecDefaults.marketplaceSubscribe
        }

        /// Managed policy ARNs: names become AWS managed policy ARNs.
        public var managedPolicyArns: [String] {
            managedPolicies.map { $0.hasPrefix("arn:") ? $0 : "arn:aws:iam::aws:policy/\($0)" }
        }
    }

    /// How reclaw may act on the deployment.
    public struct Policy: Sendable, Hashable, Codable {
        public enum Drift: String, Sendable, Hashable, Codable {
            case correct, alert
        }

        public var drift: Drift
        public var allowReplace: Bool

        public init(drift: Drift? = nil, allowReplace: Bool? = nil) {
            self.drift = drift ?? Drift(rawValue: SpecDefaults.drift)!
            self.allowReplace = allowReplace ?? SpecDefaults.allowReplace
        }
    }
}

/// Where a deployment's document is, for messages that point back at the repository.
public struct SpecLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A deployment read from a file, with where its name was written.
public struct LoadedDeployment: Sendable, Hashable {
    public var spec: DeploymentSpec
    public var location: SpecLocation

    public init(spec: DeploymentSpec, location: SpecLocation) {
        self.spec = spec
        self.location = location
    }
}
