import Foundation
import ReclawAWS
import ReclawAudit
import ReclawJSON

/// A CloudTrail management event as EventBridge delivers it ("AWS API Call via CloudTrail"),
/// reduced to what reclaw needs: who called what, whether it changed anything, and every name it
/// mentions that could be one of reclaw's resources.
public struct APICallEvent: Sendable, Hashable {
    public var eventID: String
    public var eventName: String
    public var eventSource: String
    /// As CloudTrail wrote it, and parsed.
    public var eventTimeText: String
    public var eventTime: Date?
    public var awsRegion: String
    public var requestID: String?
    public var userAgent: String?
    public var sourceIPAddress: String?
    public var userIdentity: JSONValue
    public var errorCode: String?
    public var readOnly: Bool
    /// Ids, role names, parameter names and the names inside ARNs, from the request, the response
    /// and the envelope's `resources`.
    public var names: [String]
    /// The ids and names the call acts on (`Authorship.targets` of its request): only a change to
    /// one of these can be the call's.
    public var targets: [String]

    /// Why a queue message is not an API call event reclaw can use.
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static let detailType = EventsQueueSetup.detailType

    /// Parses a message body: the EventBridge envelope and its CloudTrail `detail`.
    public static func parse(_ body: String) throws(Malformed) -> APICallEvent {
        let envelope: JSONValue
        do { envelope = try JSONValue.parse(body) } catch { throw Malformed(description: "the message is not JSON") }
        guard envelope["detail-type"]?.stringValue == detailType else {
            throw Malformed(description: "the message is not a CloudTrail API call event (detail-type \(envelope["detail-type"]?.stringValue ?? "missing"))")
        }
        guard let detail = envelope["detail"], detail.objectValue != nil else { throw Malformed(description: "the event has no detail") }
        guard let eventID = detail["eventID"]?.stringValue, let eventName = detail["eventName"]?.stringValue,
              let eventSource = detail["eventSource"]?.stringValue, let identity = detail["userIdentity"], identity.objectValue != nil else {
            throw Malformed(description: "the event's detail lacks eventID, eventName, eventSource or userIdentity")
        }
        let time = detail["eventTime"]?.stringValue ?? envelope["time"]?.stringValue ?? ""
        var names = NameCollector()
        names.collect(detail["requestParameters"])
        names.collect(detail["responseElements"])
        for resource in envelope["resources"]?.arrayValue ?? [] { names.collect(resource) }
        for resource in detail["resources"]?.arrayValue ?? [] { names.collect(resource["ARN"] ?? resource["arn"]) }
        return APICallEvent(
            eventID: eventID, eventName: eventName, eventSource: eventSource, eventTimeText: time, eventTime: ISO8601.parse(time),
            awsRegion: detail["awsRegion"]?.stringValue ?? envelope["region"]?.stringValue ?? "",
            requestID: detail["requestID"]?.stringValue, userAgent: detail["userAgent"]?.stringValue,
            sourceIPAddress: detail["sourceIPAddress"]?.stringValue, userIdentity: identity,
            errorCode: detail["errorCode"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }, readOnly: detail["readOnly"]?.boolValue ?? false,
            names: names.found, targets: Authorship.targets(detail["requestParameters"]).sorted())
    }

    /// Who made the call, for a drift finding.
    public var attribution: AuditEvent.Attribution {
        AuditEvent.Attribution(
            eventName: eventName, eventTime: eventTime.map(ISO8601.format) ?? eventTimeText,
            userIdentityArn: userIdentity["arn"]?.stringValue ?? userIdentity["invokedBy"]?.stringValue,
            accessKeyId: userIdentity["accessKeyId"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            sourceIPAddress: sourceIPAddress, cloudTrailEventID: eventID,
            actorType: ActorType.of(userIdentity: userIdentity, sourceIPAddress: sourceIPAddress, userAgent: userAgent)?.rawValue)
    }

    /// Whether reclaw made the call: only its request id in the audit log says so. A User-Agent
    /// is whatever the caller chose to send.
    public func isOwn(madeRequest: (String) -> Bool) -> Bool {
        requestID.map(madeRequest) ?? false
    }
}

/// Collects the strings of a request or response that may name a resource, bounded so a huge
/// request cannot make a message expensive: long strings (policy documents) are skipped.
struct NameCollector {
    static let maxNames = 500
    static let maxLength = 1024
    static let maxDepth = 12
    private(set) var found: [String] = []
    private var seen: Set<String> = []

    mutating func collect(_ value: JSONValue?, depth: Int = 0) {
        guard let value, depth <= Self.maxDepth, found.count < Self.maxNames else { return }
        switch value {
        case .string(let s):
            guard !s.isEmpty, s.utf8.count <= Self.maxLength else { return }
            add(s)
            if s.hasPrefix("arn:"), let name = Self.name(inARN: s) { add(name) }
        case .array(let a):
            for v in a { collect(v, depth: depth + 1) }
        case .object(let o):
            for k in o.keys.sorted() { collect(o[k], depth: depth + 1) }
        default:
            return
        }
    }

    private mutating func add(_ s: String) {
        if seen.insert(s).inserted { found.append(s) }
    }

    /// The resource name inside an ARN: a role's or instance profile's name (after its path), a
    /// parameter's name (with its leading `/`), an EC2 resource's id.
    static func name(inARN arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        let resource = parts[5]
        switch parts[2] {
        case "iam":
            guard resource.hasPrefix("role/") || resource.hasPrefix("instance-profile/") else { return nil }
            return resource.split(separator: "/").last.map(String.init)
        case "ssm":
            guard resource.hasPrefix("parameter/") else { return nil }
            return String(resource.dropFirst("parameter".count))
        case "ec2":
            return resource.split(separator: "/").last.map(String.init)
        default:
            return nil
        }
    }
}
