import Foundation
import ReclawJSON

/// Renders plans as the Terraform-like log block of DESIGN §2.4, or as JSON.
public enum PlanRenderer {
    public static func text(_ plan: Plan) -> String {
        var lines: [String] = []
        lines.append("Plan for deployment \(plan.deployment) in \(plan.region) (revision \(shortRevision(plan.revision)), plan \(plan.id))")
        if !plan.drift.isEmpty {
            lines.append("")
            lines.append("Drift since the last apply (changed outside reclaw):")
            for item in plan.drift {
                lines.append("  ! \(item.key)\(item.resourceID.map { " (\($0))" } ?? "")")
                lines.append("      \(item.attribute): \(value(item.expected)) → \(value(item.actual))")
            }
        }
        let changes = plan.changes
        lines.append("")
        if changes.isEmpty {
            lines.append("No changes. AWS matches the spec.")
        } else {
            lines.append("Changes:")
            for action in changes {
                let id = action.resourceID.map { " (\($0))" } ?? ""
                lines.append("  \(action.kind.symbol) \(action.key)\(id)" + (action.blocked != nil ? "  [blocked]" : ""))
                for c in action.changes {
                    let marker = c.requiresReplacement ? "  # forces replacement" : ""
                    if action.kind == .create {
                        lines.append("      \(c.attribute) = \(after(c))")
                    } else {
                        lines.append("      \(c.attribute): \(before(c)) → \(after(c))\(marker)")
                    }
                }
                for r in action.reasons { lines.append("      # \(r)") }
                if let blocked = action.blocked { lines.append("      ! blocked: \(blocked)") }
            }
        }
        if !plan.notes.isEmpty {
            lines.append("")
            for note in plan.notes { lines.append("Note: \(note)") }
        }
        lines.append("")
        lines.append(plan.summary + (plan.blocked.isEmpty ? "" : " \(plan.blocked.count) blocked."))
        return lines.joined(separator: "\n")
    }

    public static func json(_ plans: [Plan]) -> JSONValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let plansJSON: [JSONValue] = plans.map { plan in
            guard let data = try? encoder.encode(plan), var o = (try? JSONDecoder().decode(JSONValue.self, from: data))?.objectValue else { return .null }
            o["summary"] = [
                "add": .int(plan.count(.create)), "change": .int(plan.count(.update)), "replace": .int(plan.count(.replace)),
                "destroy": .int(plan.count(.delete)), "blocked": .int(plan.blocked.count), "drift": .int(plan.drift.count),
                "text": .string(plan.summary),
            ]
            o["actions"] = .array(plan.changes.compactMap { a in (try? encoder.encode(a)).flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) } })
            return .object(o)
        }
        return ["plans": .array(plansJSON), "changes": .bool(plans.contains { $0.hasChanges }), "drift": .bool(plans.contains { !$0.drift.isEmpty })]
    }

    static func before(_ c: AttributeChange) -> String {
        if c.sensitive { return "(sensitive)" }
        return value(c.before)
    }

    static func after(_ c: AttributeChange) -> String {
        if c.sensitive { return "(sensitive)" }
        if c.knownAfterApply { return "(known after apply)" }
        return value(c.after)
    }

    static func value(_ v: JSONValue?) -> String {
        guard let v else { return "(none)" }
        if case .null = v { return "(none)" }
        return v.description
    }

    static func shortRevision(_ r: String) -> String {
        r.count == 40 && r.allSatisfy(\.isHexDigit) ? String(r.prefix(12)) : r
    }
}
