import Foundation
import ReclawAWS
import ReclawJSON
import ReclawTime

/// One audit event (docs/contracts.md, "Audit events"). Field names follow CloudTrail's record fields so the two join
/// without a mapping; the core fields are always present, null when they do not apply.
public struct AuditEvent: Sendable, Hashable, Codable {
    public enum EventType: String, Sendable, Codable, CaseIterable {
        case awsApiCall = "AwsApiCall"
        case planComputed = "PlanComputed"
        case actionApplied = "ActionApplied"
        case actionFailed = "ActionFailed"
        case driftDetected = "DriftDetected"
        case driftCorrected = "DriftCorrected"
        case driftAttributed = "DriftAttributed"
        case driftResolved = "DriftResolved"
        case reconcileFailed = "ReconcileFailed"
        case sourceUpdated = "SourceUpdated"
        case sourceFailed = "SourceFailed"
        /// The operator's policy command refused a plan; nothing of it was applied.
        case policyDenied = "PolicyDenied"
        /// The newest revision was refused for its signature (`--allowed-signers`, `--trusted-keys`).
        case sourceRejected = "SourceRejected"
    }

    public struct Resource: Sendable, Hashable, Codable {
        public var type: String
        public var name: String

        public init(type: String, name: String) {
            self.type = type
            self.name = name
        }
    }

    /// Who made a change outside reclaw, from CloudTrail (its event, or a lookup).
    public struct Attribution: Sendable, Hashable, Codable {
        public var eventName: String
        public var eventTime: String
        public var userIdentityArn: String?
        public var accessKeyId: String?
        public var sourceIPAddress: String?
        public var cloudTrailEventID: String
        /// `human` (console, CLI or SDK under a user), `automation` (an assumed role, a service)
        /// or `aws` (AWS itself, such as an EC2 auto-recovery), when known.
        public var actorType: String?

        public init(eventName: String, eventTime: String, userIdentityArn: String?, accessKeyId: String?, sourceIPAddress: String?,
                    cloudTrailEventID: String, actorType: String? = nil) {
            self.eventName = eventName
            self.eventTime = eventTime
            self.userIdentityArn = userIdentityArn
            self.accessKeyId = accessKeyId
            self.sourceIPAddress = sourceIPAddress
            self.cloudTrailEventID = cloudTrailEventID
            self.actorType = actorType
        }
    }

    public var eventVersion = "1.0"
    public var eventID: String
    public var eventTime: String
    public var eventType: EventType
    public var deployment: String?
    public var revision: String?
    public var planID: String?
    public var eventSource: String?
    public var eventName: String?
    public var awsRegion: String?
    public var requestID: String?
    public var userAgent: String?
    public var errorCode: String?
    public var errorMessage: String?
    public var resources: [Resource]
    /// Drift events: per attribute, what reclaw applied and what AWS has.
    public var diff: JSONValue?
    /// Drift events: who made the change, once CloudTrail shows it; "pending" until then.
    public var attribution: [Attribution]?
    public var attributionStatus: String?
    /// A human summary of the event.
    public var message: String?
    /// Extra facts: component, action kind, attempt, access key id, plan summary...
    public var details: JSONValue?
    /// The replica that recorded the event, when reclaw runs as several replicas.
    public var replica: String?

    public init(type: EventType, time: Date = Clocks.date(), deployment: String? = nil, revision: String? = nil, planID: String? = nil,
                eventSource: String? = nil, eventName: String? = nil, awsRegion: String? = nil, requestID: String? = nil,
                userAgent: String? = nil, errorCode: String? = nil, errorMessage: String? = nil, resources: [Resource] = [],
                diff: JSONValue? = nil, attribution: [Attribution]? = nil, attributionStatus: String? = nil, message: String? = nil,
                details: JSONValue? = nil) {
        eventID = UUID().uuidString.lowercased()
        eventTime = ISO8601.format(time)
        eventType = type
        self.deployment = deployment
        self.revision = revision
        self.planID = planID
        self.eventSource = eventSource
        self.eventName = eventName
        self.awsRegion = awsRegion
        self.requestID = requestID
        self.userAgent = userAgent
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        // Each resource once, however many attributes or steps named it.
        var seen: Set<Resource> = []
        self.resources = resources.filter { seen.insert($0).inserted }
        self.diff = diff
        self.attribution = attribution
        self.attributionStatus = attributionStatus
        self.message = message
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case eventVersion, eventID, eventTime, eventType, deployment, revision, planID, eventSource, eventName, awsRegion,
             requestID, userAgent, errorCode, errorMessage, resources, diff, attribution, attributionStatus, message, details, replica
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(eventVersion, forKey: .eventVersion)
        try c.encode(eventID, forKey: .eventID)
        try c.encode(eventTime, forKey: .eventTime)
        try c.encode(eventType, forKey: .eventType)
        // The schema's core fields are always written, as null when absent.
        for (key, value) in [(CodingKeys.deployment, deployment), (.revision, revision), (.planID, planID), (.eventSource, eventSource),
                             (.eventName, eventName), (.awsRegion, awsRegion), (.requestID, requestID), (.userAgent, userAgent),
                             (.errorCode, errorCode), (.errorMessage, errorMessage)] {
            try c.encode(value, forKey: key)
        }
        try c.encode(resources, forKey: .resources)
        try c.encodeIfPresent(diff, forKey: .diff)
        try c.encodeIfPresent(attribution, forKey: .attribution)
        try c.encodeIfPresent(attributionStatus, forKey: .attributionStatus)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(details, forKey: .details)
        try c.encodeIfPresent(replica, forKey: .replica)
    }

    /// One JSON line.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public var date: Date? { ISO8601.parse(eventTime) }
}
