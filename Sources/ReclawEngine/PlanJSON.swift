import Foundation
import ReclawJSON

/// Plans as one JSON document laid out as `terraform show -json` lays out a plan (docs/plan-json.md),
/// so policies (OPA, conftest), plan summarizers and jq habits written for Terraform read it:
/// `resource_changes[]` and `resource_drift[]` with `address`, `type`, `change.actions`, whole
/// `before`/`after` objects and their masks. reclaw's own fields (plan id, revision, blocked
/// reason, the per-deployment `plans[]`) sit beside them. `plan --json` and `drift --json` print it.
public enum PlanJSON {
    /// The version of this document's layout; a minor step adds fields, a major one would change them.
    public static let formatVersion = "1.0"

    /// What else goes into a deployment's entry of `plans[]` (drift's attribution), by deployment.
    public typealias PlanExtras = [String: [String: JSONValue]]

    public static func document(_ plans: [Plan], reclawVersion: String, timestamp: Date, errored: Bool = false,
                                planExtras: PlanExtras = [:], extra: [String: JSONValue] = [:]) -> JSONValue {
        var o: [String: JSONValue] = [
            "format_version": .string(formatVersion),
            "reclaw_version": .string(reclawVersion),
            "timestamp": .string(rfc3339(timestamp)),
            "resource_changes": .array(plans.flatMap { p in p.actions.map { resourceChange($0, plan: p) } }),
            "resource_drift": .array(plans.flatMap(resourceDrift)),
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

    static func resourceChange(_ a: Action, plan: Plan) -> JSONValue {
        var change = changeObject(actions: actions(a.kind), before: a.before, after: a.after)
        let replacePaths = a.changes.filter(\.requiresReplacement).map { JSONValue.array(path($0.attribute)) }
        if a.kind == .replace { change["replace_paths"] = .array(replacePaths) }
        var o = address(deployment: plan.deployment, key: a.key, kind: a.resourceKind)
        o["change"] = .object(change)
        if a.kind == .replace {
            o["action_reason"] = "replace_because_cannot_update"
        } else if a.kind == .delete, a.reasons.contains("no longer in the spec") {
            o["action_reason"] = "delete_because_no_resource_config"
        }
        o["resource_id"] = a.resourceID.map { .string($0) } ?? .null
        o["reasons"] = .array(a.reasons.map { .string($0) })
        if let blocked = a.blocked { o["blocked"] = .string(blocked) }
        o["plan_id"] = .string(plan.id)
        o["revision"] = .string(plan.revision)
        return .object(o)
    }

    /// Changes made outside reclaw since the last apply, one entry per resource: `before` is what
    /// reclaw applied, `after` what AWS has now.
    static func resourceDrift(_ plan: Plan) -> [JSONValue] {
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
            let kind = action?.resourceKind ?? Components.kind(of: key) ?? .vpc
            var o = address(deployment: plan.deployment, key: key, kind: kind)
            let change: [String: JSONValue]
            if items.contains(where: { $0.attribute == "(resource)" }) {
                // Gone from AWS: what reclaw applied is the spec's resource.
                change = changeObject(actions: ["delete"], before: action?.after, after: nil)
            } else {
                let now = action?.before ?? ResourceValues(values: [:])
                var then = now
                for item in items { set(&then.values, path: path(item.attribute), to: item.expected) }
                change = changeObject(actions: ["update"], before: then, after: now)
            }
            o["change"] = .object(change)
            o["resource_id"] = items[0].resourceID.map { .string($0) } ?? .null
            o["drifted_attributes"] = .array(items.map { .string($0.attribute) })
            o["plan_id"] = .string(plan.id)
            o["revision"] = .string(plan.revision)
            return .object(o)
        }
    }

    static func address(deployment: String, key: ComponentKey, kind: ResourceKind) -> [String: JSONValue] {
        ["address": .string("\(deployment).\(key)"), "mode": "managed", "type": .string(kind.typeName), "name": .string(key),
         "provider_name": "reclaw.dev/aws", "deployment": .string(deployment)]
    }

    static func changeObject(actions: [String], before: ResourceValues?, after: ResourceValues?) -> [String: JSONValue] {
        [
            "actions": .array(actions.map { .string($0) }),
            "before": before.map { known($0.values) } ?? .null,
            "after": after.map { known($0.values) } ?? .null,
            "after_unknown": after.map { unknownMask(.object($0.values)) } ?? [:],
            "before_sensitive": before.map(sensitiveMask) ?? false,
            "after_sensitive": after.map(sensitiveMask) ?? false,
        ]
    }

    /// An attribute path as Terraform writes one (`["tags", "Team"]`).
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

    /// Values with every reference still unresolved replaced by null: Terraform leaves unknowns out of `after`.
    static func known(_ values: [String: JSONValue]) -> JSONValue {
        func strip(_ v: JSONValue) -> JSONValue {
            if Ref.target(v) != nil { return .null }
            switch v {
            case .array(let a): return .array(a.map(strip))
            case .object(let o): return .object(o.mapValues(strip))
            default: return v
            }
        }
        return strip(.object(values))
    }

    /// Terraform's `after_unknown`: `true` where a value is known only after apply; objects keep
    /// only the keys that hold something unknown, lists keep one entry per element.
    static func unknownMask(_ v: JSONValue) -> JSONValue {
        if Ref.target(v) != nil { return true }
        switch v {
        case .array(let a): return .array(a.map(unknownMask))
        case .object(let o):
            return .object(o.compactMapValues { value -> JSONValue? in
                let mask = unknownMask(value)
                return mask == .bool(false) ? Optional<JSONValue>.none : mask
            })
        default: return false
        }
    }

    /// Terraform's `*_sensitive`: `true` for each attribute whose value is never shown.
    static func sensitiveMask(_ r: ResourceValues) -> JSONValue {
        .object(Dictionary(r.sensitive.map { ($0, JSONValue.bool(true)) }, uniquingKeysWith: { a, _ in a }))
    }

    // MARK: reclaw's own per-deployment entry

    /// A deployment's plan as `plan --json` has always printed it, with the drift items' values
    /// also under Terraform's names (`before`: what reclaw applied, `after`: what AWS has).
    static func legacy(_ plan: Plan) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "id": .string(plan.id), "deployment": .string(plan.deployment), "revision": .string(plan.revision), "region": .string(plan.region),
            "createdAt": .string(rfc3339(plan.createdAt)),
            "notes": .array(plan.notes.map { .string($0) }),
            "look_alikes": .array(plan.lookAlikes.map { a in
                ["address": .string("\(plan.deployment).\(a.key)"), "resource_id": .string(a.resourceID),
                 "recorded_id": a.recordedID.map { .string($0) } ?? .null]
            }),
        ]
        o["actions"] = .array(plan.changes.map { a in
            var entry: [String: JSONValue] = [
                "key": .string(a.key), "resourceKind": .string(a.resourceKind.rawValue), "kind": .string(a.kind.rawValue),
                "changes": .array(a.changes.map(attributeChange)), "reasons": .array(a.reasons.map { .string($0) }),
            ]
            if let id = a.resourceID { entry["resourceID"] = .string(id) }
            if let blocked = a.blocked { entry["blocked"] = .string(blocked) }
            return .object(entry)
        })
        o["drift"] = .array(plan.drift.map { item in
            var entry: [String: JSONValue] = ["key": .string(item.key), "attribute": .string(item.attribute),
                                              "before": item.expected ?? .null, "after": item.actual ?? .null]
            if let id = item.resourceID { entry["resourceID"] = .string(id) }
            if let v = item.expected { entry["expected"] = v }
            if let v = item.actual { entry["actual"] = v }
            return .object(entry)
        })
        o["blocked"] = .array(plan.blocked.map { a in ["address": .string("\(plan.deployment).\(a.key)"), "reason": .string(a.blocked ?? "")] })
        o["summary"] = [
            "add": .int(plan.count(.create)), "change": .int(plan.count(.update)), "replace": .int(plan.count(.replace)),
            "destroy": .int(plan.count(.delete)), "blocked": .int(plan.blocked.count), "drift": .int(plan.drift.count),
            "text": .string(plan.summary),
        ]
        return o
    }

    /// `2026-11-25T01:02:03Z`, as Terraform writes its plan's timestamp.
    static func rfc3339(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    static func attributeChange(_ c: AttributeChange) -> JSONValue {
        var o: [String: JSONValue] = ["attribute": .string(c.attribute), "sensitive": .bool(c.sensitive),
                                      "requiresReplacement": .bool(c.requiresReplacement), "knownAfterApply": .bool(c.knownAfterApply)]
        if let b = c.before { o["before"] = b }
        if let a = c.after { o["after"] = a }
        return .object(o)
    }
}
