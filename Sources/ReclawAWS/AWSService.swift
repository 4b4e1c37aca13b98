/// The AWS services reclaw calls, with how each is addressed, signed and spoken to.
public enum AWSService: String, Sendable, CaseIterable {
    case ec2, iam, sts, ssm, cloudtrail, dynamodb, tagging, sqs
    /// EventBridge.
    case events

    /// The wire protocol.
    public enum WireProtocol: Sendable {
        /// Form-encoded `Action=…&Version=…` with an XML answer; EC2's flavour differs in error shape and list names.
        case query(version: String, ec2: Bool)
        /// JSON with an `X-Amz-Target` header.
        case json(targetPrefix: String, version: String)
    }

    public var wireProtocol: WireProtocol {
        switch self {
        case .ec2: return .query(version: "2016-11-15", ec2: true)
        case .iam: return .query(version: "2010-05-08", ec2: false)
        case .sts: return .query(version: "2011-06-15", ec2: false)
        case .ssm: return .json(targetPrefix: "AmazonSSM", version: "1.1")
        case .cloudtrail: return .json(targetPrefix: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", version: "1.1")
        case .dynamodb: return .json(targetPrefix: "DynamoDB_20120810", version: "1.0")
        case .tagging: return .json(targetPrefix: "ResourceGroupsTaggingAPI_20170126", version: "1.1")
        case .sqs: return .json(targetPrefix: "AmazonSQS", version: "1.0")
        case .events: return .json(targetPrefix: "AWSEvents", version: "1.1")
        }
    }

    /// The name in the signature's credential scope.
    public var signingName: String { rawValue }

    /// The DNS prefix of the service's endpoints.
    var endpointPrefix: String { rawValue }

    /// The suffix of its `AWS_ENDPOINT_URL_<SERVICE>` variable (the service id, upper-cased, `_` for spaces).
    public var environmentSuffix: String {
        switch self {
        case .tagging: return "RESOURCE_GROUPS_TAGGING_API"
        case .events: return "EVENTBRIDGE"
        default: return rawValue.uppercased()
        }
    }

    /// The CloudTrail `eventSource` of its calls.
    public var eventSource: String { "\(rawValue).amazonaws.com" }

    /// IAM has one endpoint per partition, signed in the partition's home region.
    public var isGlobal: Bool { self == .iam }
}

/// Where to send a service's requests and which region to sign them for.
public struct AWSEndpoint: Sendable, Equatable {
    public var url: String
    public var signingRegion: String

    /// The standard endpoint, unless AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL says otherwise.
    public static func resolve(_ service: AWSService, region: String, environment: AWSEnvironment) -> AWSEndpoint {
        let partition = Partition(region: region)
        let signingRegion = service.isGlobal ? partition.globalRegion : region
        if let override = environment["AWS_ENDPOINT_URL_" + service.environmentSuffix] ?? environment["AWS_ENDPOINT_URL"] {
            return AWSEndpoint(url: override.hasSuffix("/") ? String(override.dropLast()) : override, signingRegion: signingRegion)
        }
        if service.isGlobal {
            return AWSEndpoint(url: "https://\(partition.iamHost)", signingRegion: signingRegion)
        }
        return AWSEndpoint(url: "https://\(service.endpointPrefix).\(region).\(partition.dnsSuffix)", signingRegion: region)
    }
}

/// An AWS partition, from the region name.
public struct Partition: Sendable, Equatable {
    public var name: String
    public var dnsSuffix: String
    public var globalRegion: String
    public var iamHost: String

    public init(region: String) {
        if region.hasPrefix("cn-") {
            self = Partition(name: "aws-cn", dnsSuffix: "amazonaws.com.cn", globalRegion: "cn-north-1", iamHost: "iam.cn-north-1.amazonaws.com.cn")
        } else if region.hasPrefix("us-gov-") {
            self = Partition(name: "aws-us-gov", dnsSuffix: "amazonaws.com", globalRegion: "us-gov-west-1", iamHost: "iam.us-gov.amazonaws.com")
        } else {
            self = Partition(name: "aws", dnsSuffix: "amazonaws.com", globalRegion: "us-east-1", iamHost: "iam.amazonaws.com")
        }
    }

    private init(name: String, dnsSuffix: String, globalRegion: String, iamHost: String) {
        self.name = name
        self.dnsSuffix = dnsSuffix
        self.globalRegion = globalRegion
        self.iamHost = iamHost
    }
}
