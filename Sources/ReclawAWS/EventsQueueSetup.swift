import Foundation
import ReclawJSON

/// Makes and removes, in one region, what `reclaw run --events-queue` reads: an encrypted SQS
/// queue that only EventBridge's rule may send to, and the rule on the default bus that sends it
/// CloudTrail's management events of the services reclaw manages. Setting up again converges to
/// the same queue, policy, rule and target.
public struct EventsQueueSetup: Sendable {
    public let client: AWSClient
    /// The queue's name; the rule has the same name.
    public let queue: String

    public init(client: AWSClient, queue: String) {
        self.client = client
        self.queue = queue
    }

    public var rule: String { queue }

    /// The `detail-type` of CloudTrail's API call events on EventBridge.
    public static let detailType = "AWS API Call via CloudTrail"

    /// The services whose API calls can change a deployment.
    public static let services: [AWSService] = [.ec2, .iam, .ssm]

    /// The rule's event pattern: CloudTrail's API call events of EC2, IAM and SSM.
    public static var eventPattern: JSONValue {
        [
            "source": .array(services.map { .string("aws.\($0.rawValue)") }),
            "detail-type": [.string(detailType)],
            "detail": ["eventSource": .array(services.map { .string($0.eventSource) })],
        ]
    }

    /// Long enough for a drift check; the listener extends it while a check waits.
    public static let visibilityTimeout = 120
    /// Older events are covered by the next drift poll anyway.
    public static let retentionSeconds = 86400

    public static var queueAttributes: [String: String] {
        ["SqsManagedSseEnabled": "true", "VisibilityTimeout": String(visibilityTimeout),
         "MessageRetentionPeriod": String(retentionSeconds), "ReceiveMessageWaitTimeSeconds": "20"]
    }

    /// Only the rule may send to the queue: EventBridge is allowed with the rule as its source, and
    /// any other sender is denied, so nobody can put a forged event (and a false author) on it.
    public static func queuePolicy(queueArn: String, ruleArn: String) -> JSONValue {
        [
            "Version": "2012-10-17",
            "Statement": [
                [
                    "Sid": "EventBridgeRuleSends", "Effect": "Allow", "Principal": ["Service": "events.amazonaws.com"],
                    "Action": "sqs:SendMessage", "Resource": .string(queueArn),
                    "Condition": ["ArnEquals": ["aws:SourceArn": .string(ruleArn)]],
                ],
                [
                    "Sid": "NoOtherSender", "Effect": "Deny", "Principal": "*",
                    "Action": "sqs:SendMessage", "Resource": .string(queueArn),
                    "Condition": ["ArnNotEquals": ["aws:SourceArn": .string(ruleArn)]],
                ],
            ],
        ]
    }

    /// What one region has after a setup.
    public struct Made: Sendable {
        public var region: String
        public var queueURL: String
        public var queueArn: String
        public var ruleArn: String
        public var createdQueue: Bool
    }

    public func setUp(region: String) async throws(AWSError) -> Made {
        let sqs = SQSClient(client: client, region: region)
        let events = EventBridgeClient(client: client, region: region)
        var url = try await sqs.queueURL(queue)
        let created = url == nil
        if url == nil { url = try await sqs.createQueue(queue, attributes: Self.queueAttributes) }
        guard let url else { preconditionFailure("unreachable") }
        guard let queueArn = try await sqs.attributes(url, names: ["QueueArn"])["QueueArn"], !queueArn.isEmpty else {
            throw AWSError.malformedResponse(missing: "Attributes.QueueArn", service: AWSService.sqs.rawValue, operation: "GetQueueAttributes",
                                             region: region, requestID: nil)
        }
        let ruleArn = try await events.putRule(rule, pattern: Self.eventPattern.description,
                                               description: "CloudTrail's EC2, IAM and SSM API calls, for reclaw's drift checks")
        var attributes = Self.queueAttributes
        attributes["Policy"] = Self.queuePolicy(queueArn: queueArn, ruleArn: ruleArn).description
        try await sqs.setAttributes(url, attributes)
        try await events.putTargets(rule: rule, [EventBridgeTarget(id: "reclaw-queue", arn: queueArn)])
        return Made(region: region, queueURL: url, queueArn: queueArn, ruleArn: ruleArn, createdQueue: created)
    }

    /// Removes the rule (its targets first) and the queue; what is already gone is no error.
    /// Returns what was found and removed.
    public func tearDown(region: String) async throws(AWSError) -> (rule: Bool, queue: Bool) {
        let sqs = SQSClient(client: client, region: region)
        let events = EventBridgeClient(client: client, region: region)
        var removedRule = false
        if try await events.rule(rule) != nil {
            try await events.removeTargets(rule: rule, ids: try await events.targets(rule: rule).map(\.id))
            try await events.deleteRule(rule)
            removedRule = true
        }
        guard let url = try await sqs.queueURL(queue) else { return (removedRule, false) }
        try await sqs.deleteQueue(url)
        return (removedRule, true)
    }

    /// The regions to set up for deployments in `regions`: those, and each partition's home
    /// region, where CloudTrail delivers IAM's events.
    public static func regions(for regions: Set<String>) -> [String] {
        regions.union(regions.map { Partition(region: $0).globalRegion }).sorted()
    }
}
