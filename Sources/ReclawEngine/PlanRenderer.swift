import Foundation
import ReclawJSON

/// Renders plans as the Terraform-like block of the logs and of `reclaw plan`, or as the JSON of
/// `PlanJSON` (docs/plan-json.md).
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
                let symbol = action.kind == .noop ? "!" : action.kind.symbol
                lines.append("  \(symbol) \(action.key)\(id)" + (action.blocked != nil ? "  [blocked]" : ""))
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
        if !plan.lookAlikes.isEmpty {
            lines.append("")
            lines.append("Look-alikes (they carry this deployment's tags; reclaw never uses or deletes them):")
            for a in plan.lookAlikes {
                lines.append("  ? \(a.key) (\(a.resourceID))" + (a.recordedID.map { " # DuplicateResource: reclaw's \(a.key) is \($0)" } ?? " # DuplicateResource: reclaw cannot tell which is its own"))
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

    /// The plans as the Terraform-shaped document of `PlanJSON`.
    public static func json(_ plans: [Plan], vocabulary: any PlanVocabulary, reclawVersion: String, timestamp: Date, errored: Bool = false) -> JSONValue {
        PlanJSON.document(plans, vocabulary: vocabulary, reclawVersion: reclawVersion, timestamp: timestamp, errored: errored)
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
