import ReclawJSON

extension PlanJSON {
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

    static func attributeChange(_ c: AttributeChange) -> JSONValue {
        var o: [String: JSONValue] = ["attribute": .string(c.attribute), "sensitive": .bool(c.sensitive),
                                      "requiresReplacement": .bool(c.requiresReplacement), "knownAfterApply": .bool(c.knownAfterApply)]
        if let b = c.before { o["before"] = b }
        if let a = c.after { o["after"] = a }
        return .object(o)
    }
}
