import ReclawJSON

/// One message received from an SQS queue.
public struct SQSMessage: Sendable, Hashable {
    public var messageId: String
    public var receiptHandle: String
    public var body: String
    /// How many times the queue has handed this message out, this time included.
    public var receiveCount: Int
}

/// The SQS calls reclaw makes (JSON protocol): reading the queue CloudTrail's events arrive on,
/// and making or removing it.
public struct SQSClient: Sendable {
    public let client: AWSClient
    public let region: String

    public init(client: AWSClient, region: String) {
        self.client = client
        self.region = region
    }

    func call(_ operation: String, _ body: JSONValue) async throws(AWSError) -> JSONValue {
        try await client.json(.sqs, operation, region: region, body)
    }

    /// The queue's URL, nil when there is no queue of that name.
    public func queueURL(_ name: String) async throws(AWSError) -> String? {
        do {
            return try await call("GetQueueUrl", ["QueueName": .string(name)])["QueueUrl"]?.stringValue
        } catch {
            if Self.isMissingQueue(error) { return nil }
            throw error
        }
    }

    /// Makes the queue with `attributes` and returns its URL.
    public func createQueue(_ name: String, attributes: [String: String]) async throws(AWSError) -> String {
        let r = try await client.jsonResponse(.sqs, "CreateQueue", region: region,
                                              ["QueueName": .string(name), "Attributes": .object(attributes.mapValues { .string($0) })])
        return try r.value.required(["QueueUrl"], service: AWSService.sqs.rawValue, operation: "CreateQueue", region: region, requestID: r.requestID)
    }

    public func attributes(_ url: String, names: [String] = ["All"]) async throws(AWSError) -> [String: String] {
        let r = try await call("GetQueueAttributes", ["QueueUrl": .string(url), "AttributeNames": .array(names.map { .string($0) })])
        return (r["Attributes"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    public func setAttributes(_ url: String, _ attributes: [String: String]) async throws(AWSError) {
        _ = try await call("SetQueueAttributes", ["QueueUrl": .string(url), "Attributes": .object(attributes.mapValues { .string($0) })])
    }

    public func deleteQueue(_ url: String) async throws(AWSError) {
        _ = try await call("DeleteQueue", ["QueueUrl": .string(url)])
    }

    /// Long-polls for up to `max` messages, waiting at most `waitSeconds` (0...20) for the first.
    public func receive(_ url: String, max: Int = 10, waitSeconds: Int = 20) async throws(AWSError) -> [SQSMessage] {
        let r = try await call("ReceiveMessage", [
            "QueueUrl": .string(url), "MaxNumberOfMessages": .int(max), "WaitTimeSeconds": .int(waitSeconds),
            "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
        ])
        return (r["Messages"]?.arrayValue ?? []).map { m in
            SQSMessage(messageId: m["MessageId"]?.stringValue ?? "", receiptHandle: m["ReceiptHandle"]?.stringValue ?? "",
                       body: m["Body"]?.stringValue ?? "",
                       receiveCount: m["Attributes"]?["ApproximateReceiveCount"]?.stringValue.flatMap { Int($0) } ?? 1)
        }
    }

    public func delete(_ url: String, receiptHandle: String) async throws(AWSError) {
        _ = try await call("DeleteMessage", ["QueueUrl": .string(url), "ReceiptHandle": .string(receiptHandle)])
    }

    /// Hides a received message from other receivers for `seconds` more (0 hands it out again at once).
    public func changeVisibility(_ url: String, receiptHandle: String, seconds: Int) async throws(AWSError) {
        _ = try await call("ChangeMessageVisibility", ["QueueUrl": .string(url), "ReceiptHandle": .string(receiptHandle),
                                                        "VisibilityTimeout": .int(seconds)])
    }

    /// SQS names a missing queue `QueueDoesNotExist` in JSON and `AWS.SimpleQueueService.NonExistentQueue` in the query protocol.
    public static func isMissingQueue(_ error: AWSError) -> Bool {
        error.code == "QueueDoesNotExist" || error.code == "AWS.SimpleQueueService.NonExistentQueue" || error.code == "NonExistentQueue"
    }
}

/// A target of an EventBridge rule.
public struct EventBridgeTarget: Sendable, Hashable {
    public var id: String
    public var arn: String

    public init(id: String, arn: String) {
        self.id = id
        self.arn = arn
    }
}

/// The EventBridge calls reclaw makes: the rule on the default bus that sends CloudTrail's events to
/// its queue.
public struct EventBridgeClient: Sendable {
    public let client: AWSClient
    public let region: String

    public init(client: AWSClient, region: String) {
        self.client = client
        self.region = region
    }

    func call(_ operation: String, _ body: JSONValue) async throws(AWSError) -> JSONValue {
        try await client.json(.events, operation, region: region, body)
    }

    /// The rule's ARN, event pattern and state; nil when there is no such rule.
    public func rule(_ name: String) async throws(AWSError) -> (arn: String, pattern: String?, state: String?)? {
        do {
            let r = try await call("DescribeRule", ["Name": .string(name)])
            return (r["Arn"]?.stringValue ?? "", r["EventPattern"]?.stringValue, r["State"]?.stringValue)
        } catch {
            if error.code == "ResourceNotFoundException" { return nil }
            throw error
        }
    }

    /// Makes or updates the rule (enabled); returns its ARN.
    public func putRule(_ name: String, pattern: String, description: String) async throws(AWSError) -> String {
        let r = try await client.jsonResponse(.events, "PutRule", region: region, ["Name": .string(name), "EventPattern": .string(pattern),
                                                                                  "State": "ENABLED", "Description": .string(description)])
        return try r.value.required(["RuleArn"], service: AWSService.events.rawValue, operation: "PutRule", region: region, requestID: r.requestID)
    }

    public func targets(rule: String) async throws(AWSError) -> [EventBridgeTarget] {
        var out: [EventBridgeTarget] = []
        var token: String?
        repeat {
            var body: [String: JSONValue] = ["Rule": .string(rule)]
            if let token { body["NextToken"] = .string(token) }
            let r = try await call("ListTargetsByRule", .object(body))
            out += (r["Targets"]?.arrayValue ?? []).compactMap { t in
                t["Id"]?.stringValue.flatMap { $0.isEmpty ? nil : EventBridgeTarget(id: $0, arn: t["Arn"]?.stringValue ?? "") }
            }
            token = r["NextToken"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return out
    }

    /// Adds or updates targets; a target EventBridge refuses is an error.
    public func putTargets(rule: String, _ targets: [EventBridgeTarget]) async throws(AWSError) {
        let r = try await call("PutTargets", ["Rule": .string(rule), "Targets": .array(targets.map { ["Id": .string($0.id), "Arn": .string($0.arn)] })])
        if let failed = r["FailedEntries"]?.arrayValue?.first {
            throw AWSError(kind: .service, code: failed["ErrorCode"]?.stringValue ?? "FailedEntry",
                           message: failed["ErrorMessage"]?.stringValue ?? "EventBridge refused the target",
                           service: AWSService.events.rawValue, operation: "PutTargets", region: region)
        }
    }

    public func removeTargets(rule: String, ids: [String]) async throws(AWSError) {
        guard !ids.isEmpty else { return }
        _ = try await call("RemoveTargets", ["Rule": .string(rule), "Ids": .array(ids.map { .string($0) })])
    }

    public func deleteRule(_ name: String) async throws(AWSError) {
        do { _ = try await call("DeleteRule", ["Name": .string(name)]) } catch {
            if error.code != "ResourceNotFoundException" { throw error }
        }
    }
}
