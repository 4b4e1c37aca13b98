import ReclawJSON

/// A resource's identity and values in a provider's vocabulary, with Terraform's masks: what
/// `PlanJSON` writes for each entry of `resource_changes`, `resource_drift`, `prior_state` and
/// `planned_values`.
struct PlanWords: Sendable {
    let vocabulary: any PlanVocabulary

    init(_ vocabulary: any PlanVocabulary) { self.vocabulary = vocabulary }

    /// `address`, `mode`, `type`, `name`, `provider_name`, and reclaw's `deployment` and `component`.
    func address(deployment: String, key: ComponentKey, kind: ResourceKind) -> [String: JSONValue] {
        ["address": .string("\(deployment).\(key)"), "mode": "managed", "type": .string(vocabulary.type(of: kind)), "name": .string(key),
         "provider_name": .string(vocabulary.providerName), "deployment": .string(deployment), "component": .string(key)]
    }

    /// The values of one side, in the provider's words, with unresolved references still in place.
    func values(_ r: ResourceValues, kind: ResourceKind) -> [String: JSONValue] {
        vocabulary.attributes(r.values, kind: kind)
    }

    func change(actions: [String], before: ResourceValues?, after: ResourceValues?, kind: ResourceKind) -> [String: JSONValue] {
        let afterValues = after.map { values($0, kind: kind) }
        return [
            "actions": .array(actions.map { .string($0) }),
            "before": before.map { Self.known(values($0, kind: kind)) } ?? .null,
            "after": afterValues.map(Self.known) ?? .null,
            "after_unknown": afterValues.map { Self.unknownMask(.object($0)) } ?? [:],
            "before_sensitive": before.map { sensitiveMask($0, kind: kind) } ?? false,
            "after_sensitive": after.map { sensitiveMask($0, kind: kind) } ?? false,
        ]
    }

    /// An attribute's path in the provider's words, dotted (`metadata_options.0.http_tokens`, `tags.Team`).
    func dotted(_ attribute: String, kind: ResourceKind) -> String {
        vocabulary.path(attribute, kind: kind).map { $0.stringValue ?? $0.description }.joined(separator: ".")
    }

    /// Terraform's `*_sensitive`: `true` for each attribute whose value is never shown.
    func sensitiveMask(_ r: ResourceValues, kind: ResourceKind) -> JSONValue {
        var mask: [String: JSONValue] = [:]
        for name in r.sensitive { PlanJSON.set(&mask, path: vocabulary.path(name, kind: kind), to: true) }
        return .object(mask)
    }

    // MARK: state

    /// One resource as Terraform's state and planned values list it.
    func stateResource(deployment: String, key: ComponentKey, kind: ResourceKind, values r: ResourceValues) -> JSONValue {
        var o = address(deployment: deployment, key: key, kind: kind)
        o["schema_version"] = 0
        o["values"] = Self.known(values(r, kind: kind))
        o["sensitive_values"] = sensitiveMask(r, kind: kind)
        return .object(o)
    }

    /// What AWS holds now: every resource of the plans that exists, as reclaw observed it.
    func priorState(_ plans: [Plan], formatVersion: String) -> JSONValue {
        let resources = plans.flatMap { p in
            p.actions.compactMap { a in a.before.map { stateResource(deployment: p.deployment, key: a.key, kind: a.resourceKind, values: $0) } }
        }
        return ["format_version": .string(formatVersion), "values": ["root_module": ["resources": .array(resources)]]]
    }

    /// What AWS holds once the plans are applied: the `after` of every action that is applied, the
    /// `before` of those held back; nothing of what is deleted.
    func plannedValues(_ plans: [Plan]) -> JSONValue {
        let resources = plans.flatMap { p in
            p.actions.compactMap { a -> JSONValue? in
                guard let values = a.blocked == nil ? a.after : a.before else { return nil }
                return stateResource(deployment: p.deployment, key: a.key, kind: a.resourceKind, values: values)
            }
        }
        return ["root_module": ["resources": .array(resources)]]
    }

    // MARK: masks

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
}
