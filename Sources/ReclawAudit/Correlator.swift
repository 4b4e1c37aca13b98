import Foundation
import Synchronization
import ReclawAWS
import ReclawJSON
import ReclawTime

/// How one audited AWS call relates to CloudTrail.
public enum CorrelationStatus: String, Sendable, Codable {
    /// Found by request id.
    case matched
    /// Found by event name, resource and time (within five minutes).
    case matchedByResource
    /// Not found yet, but CloudTrail may still deliver it (it lags 5 to 15 minutes).
    case pending
    /// Not found, and old enough that CloudTrail should have it.
    case missing
}

/// One audited call and its CloudTrail record, if any.
public struct CorrelationEntry: Sendable, Codable {
    public var event: AuditEvent
    public var status: CorrelationStatus
    public var cloudTrailEventID: String?

    /// The resource the call acted on: the one it created (`RunInstances` → `i-…`), else the one
    /// its name says (`AuthorizeSecurityGroupIngress` → `sg-…`), else the first it names.
    public var resource: AuditEvent.Resource? { Self.resource(acted: event) }

    static func resource(acted e: AuditEvent) -> AuditEvent.Resource? {
        guard let name = e.eventName else { return e.resources.first }
        var noun = Substring(name)
        for verb in verbs where noun.hasPrefix(verb) {
            noun = noun.dropFirst(verb.count)
            break
        }
        let wanted = noun.lowercased()
        // The type whose name the rest of the operation's name starts with, longest first
        // (`VpcEndpoints` is a VPCEndpoint, not a VPC).
        let types = Set(e.resources.map(\.type)).sorted { shortName($0).count > shortName($1).count }
        if let type = types.first(where: { wanted.hasPrefix(shortName($0).lowercased()) }) {
            return e.resources.first { $0.type == type }
        }
        return e.resources.first
    }

    static let verbs = ["Run", "Create", "Delete", "Terminate", "Modify", "Attach", "Detach", "Authorize", "Revoke", "Associate",
                        "Disassociate", "Replace", "Put", "Add", "Remove", "Update", "Tag", "Untag", "Start", "Stop", "Send", "Assume"]

    /// `VPCEndpoint` of `AWS::EC2::VPCEndpoint`.
    static func shortName(_ type: String) -> String {
        type.split(separator: ":").last.map(String.init) ?? type
    }
}

/// The result of joining the audit log with CloudTrail.
public struct CorrelationReport: Sendable, Codable {
    public var entries: [CorrelationEntry]
    public var since: Date

    public func count(_ s: CorrelationStatus) -> Int { entries.filter { $0.status == s }.count }

    /// How many calls have each status, and in all: `--json`'s `summary`.
    public var summary: [String: Int] {
        var s = ["total": entries.count]
        for status in [CorrelationStatus.matched, .matchedByResource, .pending, .missing] { s[status.rawValue] = count(status) }
        return s
    }
}

/// Joins AwsApiCall events with CloudTrail's LookupEvents: by request id first, then by event name,
/// resource and time. Reads only write events (ReadOnly=false), pages through them, and keeps to
/// CloudTrail's two requests per second.
public struct CloudTrailCorrelator: Sendable {
    public let client: AWSClient
    /// How long CloudTrail may take to deliver before a record counts as missing.
    public var deliveryWindow: TimeInterval

    public init(client: AWSClient, deliveryWindow: TimeInterval = 15 * 60) {
        self.client = client
        self.deliveryWindow = deliveryWindow
    }

    public func correlate(_ events: [AuditEvent], since: Date, now: Date = Clocks.date()) async throws(AWSError) -> CorrelationReport {
        let calls = events.filter { e in
            e.eventType == .awsApiCall && e.errorCode == nil && e.details?["readOnly"]?.boolValue != true && (e.date ?? .distantPast) >= since
        }
        var entries: [CorrelationEntry] = []
        let pacer = Pacer(interval: .milliseconds(500))
        for (region, group) in Dictionary(grouping: calls, by: { $0.awsRegion ?? "us-east-1" }).sorted(by: { $0.key < $1.key }) {
            let earliest = group.compactMap(\.date).min() ?? since
            let trail = try await CloudTrailClient(client: client, region: region, pacer: pacer)
                .lookup(attribute: ("ReadOnly", "false"), start: earliest.addingTimeInterval(-300), end: now.addingTimeInterval(60), limit: 100_000)
            let byRequest = Dictionary(trail.compactMap { t in t.requestID.map { ($0, t) } }, uniquingKeysWith: { a, _ in a })
            for call in group {
                if let id = call.requestID, let hit = byRequest[id] {
                    entries.append(CorrelationEntry(event: call, status: .matched, cloudTrailEventID: hit.eventID))
                } else if let hit = Self.byResource(call, in: trail) {
                    entries.append(CorrelationEntry(event: call, status: .matchedByResource, cloudTrailEventID: hit.eventID))
                } else {
                    let age = now.timeIntervalSince(call.date ?? now)
                    entries.append(CorrelationEntry(event: call, status: age < deliveryWindow ? .pending : .missing, cloudTrailEventID: nil))
                }
            }
        }
        return CorrelationReport(entries: entries.sorted { $0.event.eventTime < $1.event.eventTime }, since: since)
    }

    static func byResource(_ call: AuditEvent, in trail: [CloudTrailEvent]) -> CloudTrailEvent? {
        guard let name = call.eventName, let time = call.date else { return nil }
        let resources = Set(call.resources.map(\.name))
        return trail.first { t in
            t.eventName == name && abs(t.eventTime.timeIntervalSince(time)) <= 300 && !resources.isDisjoint(with: t.resources.map(\.name))
        }
    }
}

/// Finds who changed a resource outside reclaw, from CloudTrail's write events naming it.
public struct DriftAttributor: Sendable {
    public let client: AWSClient
    /// Shared by every lookup of one attributor, so all deployments together keep within
    /// CloudTrail's two LookupEvents calls per second per region.
    public let pacers: PacerRegistry

    public init(client: AWSClient, pacers: PacerRegistry = PacerRegistry()) {
        self.client = client
        self.pacers = pacers
    }

    /// The write events since `since` that changed one of `targets` and that reclaw did not make.
    /// reclaw's own calls are known only by their request ids in its audit log; a record is an
    /// author only when its call can change the drifted attribute and acts on that resource
    /// (`Authorship`). Empty when CloudTrail has none yet.
    public func attribute(targets: [Authorship.Target], region: String, since: Date, ownRequestIDs: Set<String>,
                          now: Date = Clocks.date()) async throws(AWSError) -> [AuditEvent.Attribution] {
        let cloudTrail = CloudTrailClient(client: client, region: region, pacer: pacers.pacer(for: region))
        var found: [String: AuditEvent.Attribution] = [:]
        let byResource = Dictionary(grouping: targets, by: \.resourceID)
        for resource in byResource.keys.sorted() {
            for e in try await cloudTrail.lookup(attribute: ("ResourceName", resource), start: since.addingTimeInterval(-60), end: now.addingTimeInterval(60)) {
                guard e.record["readOnly"]?.boolValue != true, e.errorCode == nil, !ownRequestIDs.contains(e.requestID ?? "") else { continue }
                let acted = Authorship.targets(e.record["requestParameters"])
                guard byResource[resource]!.contains(where: { Authorship.isAuthor(eventName: e.eventName, targets: acted, of: $0) }) else { continue }
                found[e.eventID] = Self.attribution(e)
            }
        }
        return found.values.sorted { $0.eventTime < $1.eventTime }
    }

    static func attribution(_ e: CloudTrailEvent) -> AuditEvent.Attribution {
        AuditEvent.Attribution(
            eventName: e.eventName, eventTime: ISO8601.format(e.eventTime), userIdentityArn: e.userIdentityArn,
            accessKeyId: e.accessKeyId ?? e.record["userIdentity"]?["accessKeyId"]?.stringValue,
            sourceIPAddress: e.sourceIPAddress, cloudTrailEventID: e.eventID, actorType: ActorType.of(record: e.record)?.rawValue)
    }
}

/// One pacer per region, created on first use, for callers that must share a per-region rate.
public final class PacerRegistry: Sendable {
    private let pacers = Mutex<[String: Pacer]>([:])
    public let interval: Duration

    public init(interval: Duration = .milliseconds(500)) {
        self.interval = interval
    }

    public func pacer(for region: String) -> Pacer {
        pacers.withLock { p in
            if let existing = p[region] { return existing }
            let made = Pacer(interval: interval)
            p[region] = made
            return made
        }
    }
}
