import Foundation
import ReclawJSON

/// Who a call is made for: it goes into the User-Agent and the audit trail.
public struct AWSCallContext: Sendable, Hashable {
    public var deployment: String?
    public var planID: String?
    public var revision: String?
    /// The component a call acts for, during an apply.
    public var component: String?

    public init(deployment: String? = nil, planID: String? = nil, revision: String? = nil, component: String? = nil) {
        self.deployment = deployment
        self.planID = planID
        self.revision = revision
        self.component = component
    }

    /// `reclaw/VERSION (deployment/NAME; plan/ID)`, with the parts known.
    public var userAgent: String {
        var parts: [String] = []
        if let deployment { parts.append("deployment/\(deployment)") }
        if let planID { parts.append("plan/\(planID)") }
        return "reclaw/\(ReclawVersion.string)" + (parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")")
    }
}

/// One attempt of an AWS call as it happened, for the audit trail and metrics. Parameters are
/// sanitized (no secret values); the response text is kept only for mutating calls.
public struct AWSCallRecord: Sendable {
    public var service: AWSService
    public var operation: String
    /// The region CloudTrail records the event in (IAM: us-east-1).
    public var region: String
    public var requestID: String?
    public var httpStatus: Int?
    public var errorCode: String?
    public var errorMessage: String?
    public var isMutating: Bool
    public var attempt: Int
    public var duration: Duration
    public var time: Date
    public var context: AWSCallContext
    public var userAgent: String
    public var accessKeyId: String?
    public var requestParameters: JSONValue
    public var responseText: String?

    /// The outcome for metrics: ok, or the error code.
    public var outcome: String { errorCode ?? "ok" }
}

/// A mutating call about to be sent, for the observers that must agree to it first.
public struct AWSCallIntent: Sendable {
    public var service: AWSService
    public var operation: String
    public var region: String
    public var context: AWSCallContext
}

/// Receives every call attempt; the client awaits it, so a durable record exists before the call
/// returns. Before each attempt of a mutating call it is asked to admit it: throwing stops the call
/// before anything is sent (the audit log cannot record it, or the lease that allows it is gone).
///
/// `fence` is asked again once the call is signed, right before it is handed to the HTTP layer,
/// without suspending: it returns how long the call may still start and run (nil: no limit), or
/// throws when it may not go at all. The HTTP layer refuses the request once that time has passed.
public protocol AWSCallObserver: Sendable {
    func record(_ call: AWSCallRecord) async
    func admit(_ call: AWSCallIntent) async throws(AWSError)
    func fence(_ call: AWSCallIntent) throws(AWSError) -> Duration?
}

extension AWSCallObserver {
    public func admit(_ call: AWSCallIntent) async throws(AWSError) {}
    public func fence(_ call: AWSCallIntent) throws(AWSError) -> Duration? { nil }
}

/// Parameters of a query-protocol call, in order.
public struct QueryParams: Sendable, ExpressibleByDictionaryLiteral {
    public var pairs: [(String, String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        pairs = elements
    }

    public mutating func add(_ key: String, _ value: String?) {
        if let value { pairs.append((key, value)) }
    }

    public mutating func add(_ key: String, _ value: Int?) {
        if let value { pairs.append((key, String(value))) }
    }

    public mutating func add(_ key: String, _ value: Bool?) {
        if let value { pairs.append((key, value ? "true" : "false")) }
    }

    /// `prefix.1=a&prefix.2=b` (EC2 style) or `prefix.member.1=…` (IAM style, pass `prefix.member`).
    public mutating func addList(_ prefix: String, _ values: [String]) {
        for (i, v) in values.enumerated() { pairs.append(("\(prefix).\(i + 1)", v)) }
    }

    /// EC2 filters: `Filter.N.Name` and `Filter.N.Value.M`.
    public mutating func addFilters(_ filters: [(name: String, values: [String])]) {
        for (i, f) in filters.enumerated() {
            pairs.append(("Filter.\(i + 1).Name", f.name))
            addList("Filter.\(i + 1).Value", f.values)
        }
    }

    /// EC2 TagSpecification for one resource type.
    public mutating func addTagSpecification(_ resourceTypes: [String], tags: [String: String]) {
        for (i, type) in resourceTypes.enumerated() {
            let p = "TagSpecification.\(i + 1)"
            pairs.append(("\(p).ResourceType", type))
            for (j, (k, v)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
                pairs.append(("\(p).Tag.\(j + 1).Key", k))
                pairs.append(("\(p).Tag.\(j + 1).Value", v))
            }
        }
    }

    public subscript(key: String) -> String? { pairs.first { $0.0 == key }?.1 }
}

/// Keeps secrets out of recorded parameters.
enum Sanitizer {
    static let secretKeys: Set<String> = ["WebIdentityToken", "SecretAccessKey", "SessionToken", "Password", "Token", "SAMLAssertion"]

    static func query(_ service: AWSService, _ action: String, _ params: QueryParams) -> JSONValue {
        var out: [String: JSONValue] = [:]
        for (k, v) in params.pairs { out[k] = secretKeys.contains(k) ? "(sensitive)" : .string(v) }
        return .object(out)
    }

    static func json(_ service: AWSService, _ operation: String, _ body: JSONValue) -> JSONValue {
        guard case .object(var o) = body else { return body }
        if service == .ssm, operation == "PutParameter", o["Type"]?.stringValue == "SecureString" { o["Value"] = "(sensitive)" }
        if service == .ssm, operation == "SendCommand" { o["Parameters"] = "(omitted)" }
        for k in secretKeys where o[k] != nil { o[k] = "(sensitive)" }
        return .object(o)
    }

    static func isMutating(_ operation: String) -> Bool {
        !["Describe", "Get", "List", "Lookup", "AssumeRole", "Query", "Scan", "BatchGet"].contains { operation.hasPrefix($0) }
    }
}

/// Hands every call record to several observers (the audit trail and the metrics), in order.
public struct FanOutObserver: AWSCallObserver {
    public let observers: [any AWSCallObserver]

    public init(_ observers: [any AWSCallObserver]) {
        self.observers = observers
    }

    public func record(_ call: AWSCallRecord) async {
        for o in observers { await o.record(call) }
    }

    public func admit(_ call: AWSCallIntent) async throws(AWSError) {
        for o in observers { try await o.admit(call) }
    }

    public func fence(_ call: AWSCallIntent) throws(AWSError) -> Duration? {
        var left: Duration?
        for o in observers {
            if let l = try o.fence(call) { left = min(left ?? l, l) }
        }
        return left
    }
}
