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
    /// When this version was written (seconds since 1970).
    public var lastModified: Double

    public init(name: String, type: String, value: String?, version: Int, arn: String?, lastModified: Double) {
        self.name = name
        self.type = type
        self.value = value
        self.version = version
        self.arn = arn
        self.lastModified = lastModified
    }

    /// What identifies this version without its value.
    public var stamp: ParameterStamp { ParameterStamp(name: name, type: type, version: version, lastModified: lastModified) }
}

/// What identifies one version of a parameter without its value (DescribeParameters): Parameter
/// Store changes a value only by writing a new version, and a parameter deleted and made again
/// starts over at version 1 with a new modification time, so the two together say whether a value
/// read before is still the value.
public struct ParameterStamp: Sendable, Hashable, Codable {
    /// Whether AWS gave both the version and the time: a stamp missing either (0) vouches for nothing.
    public var isKnown: Bool { version > 0 && lastModified > 0 }

    public var name: String
    public var type: String
    public var version: Int
    public var lastModified: Double

    public init(name: String, type: String, version: Int, lastModified: Double) {
        self.name = name
        self.type = type
        self.version = version
        self.lastModified = lastModified
    }
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
        try await inBatches(names, of: 10) { batch throws(AWSError) in
            let r = try await call("GetParameters", ["Names": .array(batch.map { .string($0) }), "WithDecryption": false])
            return (r["Parameters"]?.arrayValue ?? []).compactMap { p in
                guard let name = p["Name"]?.stringValue, !name.isEmpty else { return nil }
                let type = p["Type"]?.stringValue ?? "String"
                return SSMParameter(name: name, type: type,
                                    value: type == "SecureString" ? nil : p["Value"]?.stringValue,
                                    version: p["Version"]?.intValue ?? 0, arn: p["ARN"]?.stringValue,
                                    lastModified: p["LastModifiedDate"]?.doubleValue ?? 0)
            }
        }
    }

    /// What DescribeParameters says of each named parameter: type, version and modification time,
    /// never the value. Fifty names a call (the most a filter takes, and a page holds), the calls
    /// concurrently; a parameter that does not exist is left out.
    public func stamps(_ names: [String]) async throws(AWSError) -> [ParameterStamp] {
        try await inBatches(names, of: 50) { batch throws(AWSError) in
            var out: [ParameterStamp] = []
            var token: String?
            repeat {
                var body: [String: JSONValue] = ["ParameterFilters": [["Key": "Name", "Option": "Equals", "Values": .array(batch.map { .string($0) })]],
                                                 "MaxResults": 50]
                if let token { body["NextToken"] = .string(token) }
                let r = try await call("DescribeParameters", .object(body))
                for p in r["Parameters"]?.arrayValue ?? [] {
                    guard let name = p["Name"]?.stringValue, !name.isEmpty else { continue }
                    out.append(ParameterStamp(name: name, type: p["Type"]?.stringValue ?? "String", version: p["Version"]?.intValue ?? 0,
                                              lastModified: p["LastModifiedDate"]?.doubleValue ?? 0))
                }
                token = r["NextToken"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil
            return out
        }
    }

    /// `read` over batches of `names`, at most `inFlight` at a time (a burst of hundreds would only
    /// meet Parameter Store's throttling); the first failure fails them all.
    func inBatches<T: Sendable>(_ names: [String], of size: Int, inFlight: Int = 8,
                                _ read: @escaping @Sendable ([String]) async throws(AWSError) -> [T]) async throws(AWSError) -> [T] {
        var batches = stride(from: 0, to: names.count, by: size).map { Array(names[$0..<min(names.count, $0 + size)]) }[...]
        let result: Result<[T], AWSError> = await withTaskGroup(of: Result<[T], AWSError>.self) { group in
            func start() {
                guard let batch = batches.popFirst() else { return }
                group.addTask {
                    do throws(AWSError) { return .success(try await read(batch)) } catch { return .failure(error) }
                }
            }
            for _ in 0..<max(1, inFlight) { start() }
            var all: [T] = []
            for await batch in group {
                switch batch {
                case .success(let items): all += items; start()
                case .failure(let e): group.cancelAll(); return .failure(e)
                }
            }
            return .success(all)
        }
        return try result.get()
    }

    /// One parameter's value (for public AMI parameters); an answer without one is an error, never "".
    public func parameterValue(_ name: String) async throws(AWSError) -> String {
        let r = try await client.jsonResponse(.ssm, "GetParameter", region: region, ["Name": .string(name)], context: context)
        return try r.value.required(["Parameter", "Value"], service: AWSService.ssm.rawValue, operation: "GetParameter", region: region,
                                    requestID: r.requestID)
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
