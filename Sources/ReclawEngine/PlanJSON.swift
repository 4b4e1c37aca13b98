import Foundation
import ReclawJSON

/// Plans as one JSON document laid out as `terraform show -json` lays out a plan (docs/plan-json.md),
/// in a provider's vocabulary (`PlanVocabulary`), so policies (checkov, OPA, conftest), plan
/// summarizers and jq habits written for Terraform read it: `resource_changes[]` and
/// `resource_drift[]` with `address`, `type`, `change.actions`, whole `before`/`after` objects and
/// their masks, `prior_state` and `planned_values`. reclaw's own fields (plan id, revision, blocked
/// reason, component, the per-deployment `plans[]`) sit beside them.
public enum PlanJSON {
    /// The version of this document's layout; a minor step adds fields, a major one changes them.
    public static let formatVersion = "2.0"
    /// The Terraform release whose plan representation this layout follows; tools such as checkov
    /// recognise a plan by the presence of `terraform_version`.
    public static let terraformVersion = "1.9.0"

    /// What else goes into a deployment's entry of `plans[]` (drift's attribution), by deployment.
    public typealias PlanExtras = [String: [String: JSONValue]]

    public static func document(_ plans: [Plan], vocabulary: any PlanVocabulary, reclawVersion: String, timestamp: Date, errored: Bool = false,
                                planExtras: PlanExtras = [:], extra: [String: JSONValue] = [:]) -> JSONValue {
        let words = PlanWords(vocabulary)
        var o: [String: JSONValue] = [
            "format_version": .string(formatVersion),
            "reclaw_version": .string(reclawVersion),
            "terraform_version": .string(terraformVersion),
            "timestamp": .string(rfc3339(timestamp)),
            "resource_changes": .array(plans.flatMap { p in p.actions.map { resourceChange($0, plan: p, words) } }),
            "resource_drift": .array(plans.flatMap { resourceDrift($0, words) }),
            "prior_state": words.priorState(plans, formatVersion: formatVersion),
            "planned_values": words.plannedValues(plans),
            "errored": .bool(errored),
            "applyable": .bool(plans.contains { $0.hasChanges } && plans.allSatisfy { $0.blocked.isEmpty }),
            "complete": .bool(!errored),
            "plans": .array(plans.map { p in
                var entry = legacy(p)
                for (k, v) in planExtras[p.deployment] ?? [:] { entry[k] = v }
                return .object(entry)
            }),
            "changes": .bool(plans.contains { $0.hasChanges }),
            "drift": .bool(plans.contains { !$0.drift.isEmpty }),
        ]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    // MARK: resource changes

    /// Terraform's `change.actions` for an action kind.
    public static func actions(_ kind: Action.Kind) -> [String] {
        switch kind {
        case .create: return ["create"]
        case .update: return ["update"]
        case .replace: return ["delete", "create"]
        case .delete: return ["delete"]
        case .noop: return ["no-op"]
        }
    }

    static func resourceChange(_ a: Action, plan: Plan, _ words: PlanWords) -> JSONValue {
        var change = words.change(actions: actions(a.kind), before: a.before, after: a.after, kind: a.resourceKind)
        if a.kind == .replace {
            change["replace_paths"] = .array(a.changes.filter(\.requiresReplacement).map { JSONValue.array(words.vocabulary.path($0.attribute, kind: a.resourceKind)) })
        }
        var o = words.address(deployment: plan.deployment, key: a.key, kind: a.resourceKind)
        o["change"] = .object(change)
        if let reason = actionReason(a) { o["action_reason"] = .string(reason) }
        o["resource_id"] = a.resourceID.map { .string($0) } ?? .null
        o["reasons"] = .array(a.reasons.map { .string($0) })
        if let blocked = a.blocked { o["blocked"] = .string(blocked) }
        o["plan_id"] = .string(plan.id)
        o["revision"] = .string(plan.revision)
        return .object(o)
    }

    /// Terraform's `action_reason`, from the action's cause.
    static func actionReason(_ a: Action) -> String? {
        switch a.cause {
        case .cannotUpdate?: return a.kind == .replace ? "replace_because_cannot_update" : nil
        case .noLongerInSpec?: return a.kind == .delete ? "delete_because_no_resource_config" : nil
        case .destroying?, nil: return nil
        }
    }

    /// Changes made outside reclaw since the last apply, one entry per resource: `before` is what
    /// reclaw applied, `after` what AWS has now.
    static func resourceDrift(_ plan: Plan, _ words: PlanWords) -> [JSONValue] {
        var order: [ComponentKey] = []
        var byKey: [ComponentKey: [DriftItem]] = [:]
        // Look-alikes are no change of reclaw's resources: `plans[].look_alikes` lists them.
        for item in plan.drift where !item.isLookAlike {
            if byKey[item.key] == nil { order.append(item.key) }
            byKey[item.key, default: []].append(item)
        }
        return order.map { key in
            let items = byKey[key]!
            let action = plan.actions.first { $0.key == key && $0.before != nil && (items[0].resourceID == nil || $0.resourceID == items[0].resourceID) }
                ?? plan.actions.first { $0.key == key }
            let kind = action?.resourceKind ?? plan.kinds[key] ?? ResourceKind(key)
            var o = words.address(deployment: plan.deployment, key: key, kind: kind)
            let change: [String: JSONValue]
            if items.contains(where: { $0.attribute == "(resource)" }) {
                // Gone from AWS: what reclaw applied is the spec's resource.
                change = words.change(actions: ["delete"], before: action?.after, after: nil, kind: kind)
            } else {
                let now = action?.before ?? ResourceValues(values: [:])
                var then = now
                for item in items { set(&then.values, path: path(item.attribute), to: item.expected) }
                change = words.change(actions: ["update"], before: then, after: now, kind: kind)
            }
            o["change"] = .object(change)
            o["resource_id"] = items[0].resourceID.map { .string($0) } ?? .null
            o["drifted_attributes"] = .array(items.map { .string(words.dotted($0.attribute, kind: kind)) })
            o["plan_id"] = .string(plan.id)
            o["revision"] = .string(plan.revision)
            return .object(o)
        }
    }

    /// A path into reclaw's own attribute object (`["tags", "Team"]`).
    static func path(_ attribute: String) -> [JSONValue] {
        attribute.hasPrefix("tags.") ? ["tags", .string(String(attribute.dropFirst(5)))] : [.string(attribute)]
    }

    /// Sets the value at a path; nil removes it (a tag that was not there).
    static func set(_ values: inout [String: JSONValue], path: [JSONValue], to value: JSONValue?) {
        guard let first = path.first?.stringValue else { return }
        if path.count == 1 {
            values[first] = value
        } else {
            var inner = values[first]?.objectValue ?? [:]
            set(&inner, path: Array(path.dropFirst()), to: value)
            values[first] = .object(inner)
        }
    }

    /// `2026-11-25T01:02:03Z`, as Terraform writes its plan's timestamp.
    static func rfc3339(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
