import Foundation
import ReclawAudit
import ReclawEngine
import ReclawJSON

/// What a chat alert says, whatever the platform: a headline, what reclaw did about it, what
/// changed (or what went wrong), and the facts every alert carries.
struct AlertContent: Sendable {
    var headline: String
    /// What reclaw did: corrected the drift, left it under `policy.drift: alert`, stalled...
    var outcome: String?
    /// The title of `lines`: "What changed", "63 errors", "What happened".
    var linesTitle: String
    /// One line per changed attribute (`instance-sg (sg-1) ingress: tcp/22 from 0.0.0.0/0 added`) or error.
    var lines: [String]
    var facts: [(name: String, value: String)]

    init(_ e: AuditEvent) {
        headline = "reclaw: \(e.eventType.rawValue)\(e.deployment.map { " on \($0)" } ?? "")"
        outcome = Self.outcome(e)
        if let diff = e.diff?.objectValue, !diff.isEmpty {
            linesTitle = "What changed"
            lines = Self.changes(diff)
        } else if let error = e.errorMessage, !error.isEmpty {
            if e.errorCode == "InvalidSpec" {
                (linesTitle, lines) = Self.diagnostics(error, count: e.details?["errors"]?.intValue)
            } else {
                linesTitle = "What happened"
                lines = [error]
            }
        } else {
            linesTitle = "What happened"
            lines = e.message.map { [$0] } ?? []
        }
        facts = Self.facts(e)
    }

    /// Diagnostics shown in an alert: at most `maxDiagnostics`, then how many more.
    static let maxDiagnostics = 20

    /// An invalid spec's diagnostics, one per line, under a title with their count: `count` is the
    /// event's own (`details.errors`); only an event without one (older) has its lines counted,
    /// split as it was written (one per line, or joined by "; ").
    static func diagnostics(_ text: String, count: Int?) -> (title: String, lines: [String]) {
        var all = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        if count == nil && all.count <= 1 { all = text.components(separatedBy: "; ") }
        let total = count ?? all.count
        var lines = Array(all.prefix(maxDiagnostics))
        if total > lines.count { lines.append("… and \(total - lines.count) more (reclaw validate lists them all)") }
        return ("\(total) error\(total == 1 ? "" : "s")", lines)
    }

    /// What reclaw did about the event, in one sentence.
    static func outcome(_ e: AuditEvent) -> String? {
        switch e.eventType {
        case .driftCorrected:
            return "Corrected: reclaw put it back as the spec says."
        case .driftDetected:
            if let diff = e.diff?.objectValue, !diff.isEmpty, diff.keys.allSatisfy({ $0.hasSuffix("." + DriftItem.lookAlikeAttribute) }) {
                return "Left alone: reclaw never uses or deletes a resource it did not record. Remove reclaw's tags from the look-alike, or delete it by hand."
            }
            switch e.details?["driftPolicy"]?.stringValue {
            case "alert": return "Left as it is under policy.drift: alert. Change the spec to keep it, or undo it by hand."
            case "correct": return "Not corrected: reclaw's correction did not converge; it keeps trying."
            default: return "Not corrected."
            }
        case .driftAttributed:
            let corrected = e.details?["corrected"]?.boolValue
            let who = (e.attribution ?? []).isEmpty ? "CloudTrail never showed who made this drift." : "CloudTrail now shows who made this drift."
            return who + (corrected == true ? " reclaw had corrected it." : corrected == false ? " It was left as it is." : "")
        case .driftResolved:
            return "The drift is gone: AWS matches the spec again."
        case .reconcileFailed:
            return e.errorCode == "InvalidSpec" ? "Stalled: the spec is invalid; the deployment is left exactly as it was until it is fixed." : "The reconcile failed."
        case .sourceFailed:
            return "The source cannot be read; the last good revision stays in force."
        case .sourceRejected:
            return "A revision was refused for its signature: nothing of it is applied; the last verified revision stays in force."
        default:
            return nil
        }
    }

    /// The same facts for every shape: deployment, revision, resources, who, error, when.
    static func facts(_ e: AuditEvent) -> [(name: String, value: String)] {
        var f: [(name: String, value: String)] = []
        if let d = e.deployment { f.append(("Deployment", d)) }
        if let r = e.revision { f.append(("Revision", r)) }
        if !e.resources.isEmpty { f.append(("Resources", e.resources.map(\.name).uniqued().joined(separator: ", "))) }
        if let a = e.attribution, !a.isEmpty {
            f.append(("Changed by", a.map { who in
                let kind = who.actorType.map { " [\($0)]" } ?? ""
                let from = who.sourceIPAddress.map { " from \($0)" } ?? ""
                return "\(who.userIdentityArn ?? "unknown") (\(who.accessKeyId ?? "?"))\(kind)\(from), \(who.eventName) at \(who.eventTime)"
            }.joined(separator: "; ")))
        } else if let s = e.attributionStatus {
            f.append(("Changed by", s == "pending" ? "not known yet: CloudTrail has not delivered the change" : s))
        }
        if let code = e.errorCode { f.append(("Error", code + (e.requestID.map { " (request id \($0))" } ?? ""))) }
        f.append(("Event", "\(e.eventID) at \(e.eventTime)"))
        return f
    }

    // MARK: what changed

    /// One line per drifted attribute: `instance-sg (sg-1) ingress: tcp/22 from 0.0.0.0/0 added`.
    /// `before` is what reclaw applied, `after` what AWS has.
    static func changes(_ diff: [String: JSONValue]) -> [String] {
        diff.keys.sorted().map { key in
            let entry = diff[key] ?? .null
            let dot = key.firstIndex(of: ".") ?? key.endIndex
            let component = String(key[..<dot])
            let attribute = dot < key.endIndex ? String(key[key.index(after: dot)...]) : ""
            let resource = component + (entry["resourceID"]?.stringValue.map { " (\($0))" } ?? "")
            let before = entry["before"] ?? .null
            let after = entry["after"] ?? .null
            if attribute == "(resource)" { return "\(resource): deleted outside reclaw" }
            if attribute == DriftItem.lookAlikeAttribute {
                let recorded = before == .null ? "which is reclaw's cannot be told" : "reclaw's is \(text(before))"
                return "\(resource): DuplicateResource: carries this deployment's tags; \(recorded)"
            }
            if attribute.hasPrefix("tags.") {
                let tag = attribute.dropFirst(5)
                switch (before, after) {
                case (.null, _): return "\(resource): tag \(tag)=\(text(after)) added"
                case (_, .null): return "\(resource): tag \(tag) removed (was \(text(before)))"
                default: return "\(resource): tag \(tag) \(text(before)) → \(text(after))"
                }
            }
            if case .array(let was) = before, case .array(let now) = after {
                let added = now.filter { !was.contains($0) }.map { describe($0, attribute: attribute) + " added" }
                let removed = was.filter { !now.contains($0) }.map { describe($0, attribute: attribute) + " removed" }
                let parts = added + removed
                return "\(resource) \(attribute): " + (parts.isEmpty ? "reordered" : parts.joined(separator: ", "))
            }
            return "\(resource) \(attribute): \(text(before)) → \(text(after))"
        }
    }

    /// A list element: a security group rule as `tcp/22 from 0.0.0.0/0`, anything else as it is.
    static func describe(_ v: JSONValue, attribute: String) -> String {
        if case .object(let o) = v, let proto = o["protocol"]?.stringValue, o["peer"] != nil {
            let peer = o["peer"]?.stringValue ?? text(o["peer"] ?? .null)
            let direction = attribute == "egress" ? "to" : "from"
            if proto == "-1" || proto == "all" { return "all traffic \(direction) \(peer)" }
            let ports: String
            switch (o["fromPort"]?.intValue, o["toPort"]?.intValue) {
            case let (from?, to?) where from == to: ports = "\(from)"
            case let (from?, to?) where from == -1 && to == -1: ports = "all"
            case let (from?, to?): ports = "\(from)-\(to)"
            case let (from?, nil): ports = "\(from)"
            default: ports = "all"
            }
            return "\(proto)/\(ports) \(direction) \(peer)"
        }
        return text(v)
    }

    static func text(_ v: JSONValue) -> String {
        switch v {
        case .null: return "(none)"
        case .string(let s): return s
        default: return v.description
        }
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each only the first time it appears.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
