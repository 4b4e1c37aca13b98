import Foundation
import ReclawJSON
import Logging
import ReclawTime

/// An SSM parameter as observed (the value of a SecureString is never read).
public struct SSMParameter: Sendable, Hashable {
    public var name: String
    public var type: String
    public var value: String?
    public var version: Int
    public var arn: String?
}

/// The SSM calls reclaw makes: parameters and Run Command.
public struct SSMClient: Sendable {
    public let client: AWSClient
    public let region: String
    public let context: AWSCallContext

    public init(client: AWSClient, region: String, context: AWSCallContext = AWSCallContext()) {
        self.client = client
        self.region = region
        self.context = context
    }

    func call(_ operation: String, _ body: JSONValue) async throws(AWSError) -> JSONValue {
        try await client.json(.ssm, operation, region: region, body, context: context)
    }

    /// Parameters by name, read ten at a time (GetParameters' limit), the batches concurrently,
    /// without decryption.
    public func parameters(_ names: [String]) async throws(AWSError) -> [SSMParameter] {
        let batches = stride(from: 0, to: names.count, by: 10).map { Array(names[$0..<min(names.count, $0 + 10)]) }
        let result: Result<[SSMParameter], AWSError> = await withTaskGroup(of: Result<[SSMParameter], AWSError>.self) { group in
            for batch in batches {
                group.addTask {
                    do {
                        let r = try await call("GetParameters", ["Names": .array(batch.map { .string($0) }), "WithDecryption": false])
                        return .success((r["Parameters"]?.arrayValue ?? []).compactMap { p in
                            guard let name = p["Name"]?.stringValue, !name.isEmpty else { return nil }
                            let type = p["Type"]?.stringValue ?? "String"
                            return SSMParameter(name: name, type: type,
                                                value: type == "SecureString" ? nil : p["Value"]?.stringValue,
                                                version: p["Version"]?.intValue ?? 0, arn: p["ARN"]?.stringValue)
                        })
                    } catch {
                        return .failure(error as? AWSError ?? AWSError(kind: .transport, code: "Error", message: "\(error)", service: "ssm", operation: "GetParameters"))
                    }
                }
            }
            var all: [SSMParameter] = []
            for await batch in group {
                switch batch {
                case .success(let p): all += p
                case .failure(let e): return .failure(e)
                }
            }
            return .success(all)
        }
        return try result.get()
    }

    /// One parameter's value (for public AMI parameters).
    public func parameterValue(_ name: String) async throws(AWSError) -> String {
        let r = try await call("GetParameter", ["Name": .string(name)])
        return r["Parameter"]?["Value"]?.stringValue ?? ""
    }

    /// Creates (with tags) or overwrites a parameter. Tags cannot be sent with Overwrite.
    public func putParameter(name: String, value: String, type: String, overwrite: Bool, tags: [String: String], description: String? = nil) async throws(AWSError) -> Int {
        var body: [String: JSONValue] = ["Name": .string(name), "Value": .string(value), "Type": .string(type), "Overwrite": .bool(overwrite)]
        if !overwrite && !tags.isEmpty { body["Tags"] = Self.tagList(tags) }
        if let description { body["Description"] = .string(description) }
        return try await call("PutParameter", .object(body))["Version"]?.intValue ?? 0
    }

    public func deleteParameters(_ names: [String]) async throws(AWSError) {
        for start in stride(from: 0, to: names.count, by: 10) {
            let batch = Array(names[start..<min(names.count, start + 10)])
            _ = try await call("DeleteParameters", ["Names": .array(batch.map { .string($0) })])
        }
    }

    /// A parameter's tags, read from SSM itself (not the tagging API's index).
    public func tags(parameter: String) async throws(AWSError) -> [String: String] {
        let r = try await call("ListTagsForResource", ["ResourceType": "Parameter", "ResourceId": .string(parameter)])
        return Dictionary((r["TagList"]?.arrayValue ?? []).compactMap { t in
            t["Key"]?.stringValue.map { ($0, t["Value"]?.stringValue ?? "") }
        }, uniquingKeysWith: { a, _ in a })
    }

    public func addTags(parameter: String, _ tags: [String: String]) async throws(AWSError) {
        guard !tags.isEmpty else { return }
        _ = try await call("AddTagsToResource", ["ResourceType": "Parameter", "ResourceId": .string(parameter), "Tags": Self.tagList(tags)])
    }

    public func removeTags(parameter: String, keys: [String]) async throws(AWSError) {
        guard !keys.isEmpty else { return }
        _ = try await call("RemoveTagsFromResource", ["ResourceType": "Parameter", "ResourceId": .string(parameter),
                                                      "TagKeys": .array(keys.sorted().map { .string($0) })])
    }

    /// Runs a shell script on an instance through AWS-RunShellScript; returns the command id.
    /// `timeoutSeconds` is SSM's delivery timeout (at least 30), `executionTimeoutSeconds` the
    /// script's own (the document's default, an hour, when nil).
    public func sendCommand(instanceId: String, commands: [String], comment: String, timeoutSeconds: Int = 600,
                            executionTimeoutSeconds: Int? = nil) async throws(AWSError) -> String {
        var parameters: [String: JSONValue] = ["commands": .array(commands.map { .string($0) })]
        if let executionTimeoutSeconds { parameters["executionTimeout"] = [.string(String(max(1, executionTimeoutSeconds)))] }
        let r = try await client.jsonResponse(.ssm, "SendCommand", region: region, [
            "InstanceIds": [.string(instanceId)], "DocumentName": "AWS-RunShellScript", "Comment": .string(String(comment.prefix(100))),
            "TimeoutSeconds": .int(max(30, timeoutSeconds)), "Parameters": .object(parameters),
        ], context: context)
        return try r.value.required(["Command", "CommandId"], service: AWSService.ssm.rawValue, operation: "SendCommand", region: region,
                                    requestID: r.requestID)
    }

    /// A command's status on an instance (Pending, InProgress, Success, Failed, TimedOut, Cancelled...).
    public func commandInvocation(commandId: String, instanceId: String) async throws(AWSError) -> (status: String, detail: String, output: String) {
        let r = try await call("GetCommandInvocation", ["CommandId": .string(commandId), "InstanceId": .string(instanceId)])
        return (r["Status"]?.stringValue ?? "", r["StatusDetails"]?.stringValue ?? "",
                (r["StandardErrorContent"]?.stringValue ?? "") + (r["StandardOutputContent"]?.stringValue ?? ""))
    }

    static func tagList(_ tags: [String: String]) -> JSONValue {
        .array(tags.sorted { $0.key < $1.key }.map { ["Key": .string($0.key), "Value": .string($0.value)] })
    }
}

/// The Resource Groups Tagging API: every resource of a type carrying a tag, with all its tags, in
/// one paginated call (reclaw uses it for SSM parameters, whose tags have no batch read).
public struct TaggingClient: Sendable {
    public let client: AWSClient
    public let region: String
    public let context: AWSCallContext

    public init(client: AWSClient, region: String, context: AWSCallContext = AWSCallContext()) {
        self.client = client
        self.region = region
        self.context = context
    }

    /// Every resource of `type` carrying `tagKey`; with `values`, only those whose tag has one of
    /// them (AWS takes at most 20 values a filter: more are asked for 20 at a time).
    public func resources(type: String, tagKey: String, values: [String]? = nil) async throws(AWSError) -> [(arn: String, tags: [String: String])] {
        guard let values else { return try await page(type: type, filter: ["Key": .string(tagKey)]) }
        var out: [(arn: String, tags: [String: String])] = []
        for start in stride(from: 0, to: values.count, by: 20) {
            let chunk = values[start..<min(start + 20, values.count)]
            out += try await page(type: type, filter: ["Key": .string(tagKey), "Values": .array(chunk.map { .string($0) })])
        }
        return out
    }

    private func page(type: String, filter: JSONValue) async throws(AWSError) -> [(arn: String, tags: [String: String])] {
        var out: [(String, [String: String])] = []
        var token: String?
        repeat {
            var body: [String: JSONValue] = ["ResourceTypeFilters": [.string(type)], "TagFilters": [filter], "ResourcesPerPage": 100]
            if let token { body["PaginationToken"] = .string(token) }
            let r = try await client.json(.tagging, "GetResources", region: region, .object(body), context: context)
            for m in r["ResourceTagMappingList"]?.arrayValue ?? [] {
                var tags: [String: String] = [:]
                for t in m["Tags"]?.arrayValue ?? [] { if let k = t["Key"]?.stringValue { tags[k] = t["Value"]?.stringValue ?? "" } }
                guard let arn = m["ResourceARN"]?.stringValue, !arn.isEmpty else {
                    client.logger.warning("skipping an item without an id", metadata: ["aws.operation": "GetResources", "aws.region": "\(region)"])
                    continue
                }
                out.append((arn, tags))
            }
            token = r["PaginationToken"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return out
    }
}

/// A CloudTrail management event from LookupEvents.
public struct CloudTrailEvent: Sendable, Hashable {
    public var eventID: String
    public var eventName: String
    public var eventTime: Date
    public var eventSource: String
    public var username: String?
    public var accessKeyId: String?
    public var resources: [(type: String, name: String)]
    /// The full record (`CloudTrailEvent`), parsed.
    public var record: JSONValue

    public var requestID: String? { record["requestID"]?.stringValue }
    public var userAgent: String? { record["userAgent"]?.stringValue }
    public var userIdentityArn: String? { record["userIdentity"]?["arn"]?.stringValue }
    public var sourceIPAddress: String? { record["sourceIPAddress"]?.stringValue }
    public var errorCode: String? { record["errorCode"]?.stringValue }

    public static func == (a: CloudTrailEvent, b: CloudTrailEvent) -> Bool { a.eventID == b.eventID }
    public func hash(into h: inout Hasher) { h.combine(eventID) }
}

/// CloudTrail's LookupEvents, paginated and kept under its 2 requests per second.
public struct CloudTrailClient: Sendable {
    public let client: AWSClient
    public let region: String
    let pacer: Pacer

    /// `pacer` is shared by every CloudTrail client that must stay within the account's rate together.
    public init(client: AWSClient, region: String, pacer: Pacer = Pacer(interval: .milliseconds(500))) {
        self.client = client
        self.region = region
        self.pacer = pacer
    }

    /// Events in a time window, optionally with one lookup attribute (ResourceName, EventName, ...).
    public func lookup(attribute: (key: String, value: String)? = nil, start: Date, end: Date = Clocks.date(), limit: Int = 1000) async throws(AWSError) -> [CloudTrailEvent] {
        var out: [CloudTrailEvent] = []
        var token: String?
        repeat {
            await pacer.wait()
            var body: [String: JSONValue] = ["StartTime": .double(start.timeIntervalSince1970), "EndTime": .double(end.timeIntervalSince1970), "MaxResults": 50]
            if let attribute { body["LookupAttributes"] = [["AttributeKey": .string(attribute.key), "AttributeValue": .string(attribute.value)]] }
            if let token { body["NextToken"] = .string(token) }
            let r = try await patiently { () async throws(AWSError) in try await client.json(.cloudtrail, "LookupEvents", region: region, .object(body)) }
            for e in r["Events"]?.arrayValue ?? [] {
                let record = (e["CloudTrailEvent"]?.stringValue).flatMap { try? JSONValue.parse($0) } ?? .null
                let seconds: Double = { if case .double(let d)? = e["EventTime"] { return d }; return Double(e["EventTime"]?.intValue ?? 0) }()
                out.append(CloudTrailEvent(
                    eventID: e["EventId"]?.stringValue ?? "", eventName: e["EventName"]?.stringValue ?? "",
                    eventTime: Date(timeIntervalSince1970: seconds), eventSource: e["EventSource"]?.stringValue ?? "",
                    username: e["Username"]?.stringValue, accessKeyId: e["AccessKeyId"]?.stringValue,
                    resources: (e["Resources"]?.arrayValue ?? []).map { ($0["ResourceType"]?.stringValue ?? "", $0["ResourceName"]?.stringValue ?? "") },
                    record: record))
            }
            token = r["NextToken"]?.stringValue
        } while token != nil && out.count < limit
        return out
    }
}

/// Calls LookupEvents again while CloudTrail throttles it (its limit is two calls per second per
/// account and region, shared with every other caller), waiting longer each time, up to ten times.
func patiently<T>(_ body: () async throws(AWSError) -> T) async throws(AWSError) -> T {
    var wait = Duration.milliseconds(600)
    for _ in 0..<10 {
        do { return try await body() } catch {
            guard error.isThrottling else { throw error }
        }
        try? await Clocks.sleep(for: wait)
        wait = min(wait * 2, .seconds(10))
    }
    return try await body()
}

/// Spaces calls at least `interval` apart, across every caller sharing it.
public actor Pacer {
    let interval: Duration
    private var next = Clocks.now()

    public init(interval: Duration) { self.interval = interval }

    public func wait() async {
        let now = Clocks.now()
        let at = max(now, next)
        next = at + interval
        if at > now { try? await Clocks.current.sleep(until: at) }
    }
}

/// The DynamoDB calls a lease needs: conditional put, get and delete of one item.
public struct DynamoDBClient: Sendable {
    public let client: AWSClient
    public let region: String

    public init(client: AWSClient, region: String) {
        self.client = client
        self.region = region
    }

    /// Puts `item` (attribute-value JSON) if `condition` holds; a false condition throws ConditionalCheckFailedException.
    public func putItem(table: String, item: [String: JSONValue], condition: String? = nil, values: [String: JSONValue] = [:]) async throws(AWSError) {
        var body: [String: JSONValue] = ["TableName": .string(table), "Item": .object(item)]
        if let condition { body["ConditionExpression"] = .string(condition) }
        if !values.isEmpty { body["ExpressionAttributeValues"] = .object(values) }
        _ = try await client.json(.dynamodb, "PutItem", region: region, .object(body))
    }

    public func getItem(table: String, key: [String: JSONValue]) async throws(AWSError) -> [String: JSONValue]? {
        let r = try await client.json(.dynamodb, "GetItem", region: region, ["TableName": .string(table), "Key": .object(key), "ConsistentRead": true])
        return r["Item"]?.objectValue
    }

    public func deleteItem(table: String, key: [String: JSONValue], condition: String? = nil, values: [String: JSONValue] = [:]) async throws(AWSError) {
        var body: [String: JSONValue] = ["TableName": .string(table), "Key": .object(key)]
        if let condition { body["ConditionExpression"] = .string(condition) }
        if !values.isEmpty { body["ExpressionAttributeValues"] = .object(values) }
        _ = try await client.json(.dynamodb, "DeleteItem", region: region, .object(body))
    }
}
