import Foundation
import ReclawJSON
import Logging
import ReclawTime

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
                let seconds = e["EventTime"]?.doubleValue ?? 0
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
