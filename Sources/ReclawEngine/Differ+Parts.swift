import ReclawJSON

extension Differ {
    // MARK: parts

    static func creationChanges(_ component: DesiredComponent, _ resolved: [String: JSONValue], schema: any ProviderSchema) -> [AttributeChange] {
        var changes = component.attributes.keys.sorted().compactMap { name -> AttributeChange? in
            let a = component.attributes[name]!
            let value = resolved[name]!
            if value == .null && !a.sensitive { return nil }
            return AttributeChange(attribute: name, before: nil, after: Ref.isUnresolved(value) ? nil : value, sensitive: a.sensitive,
                                   knownAfterApply: Ref.isUnresolved(value))
        }
        let userTags = schema.userTags(component.tags)
        if !userTags.isEmpty {
            changes.append(AttributeChange(attribute: "tags", before: nil, after: .object(userTags.mapValues { .string($0) })))
        }
        return changes
    }

    /// The whole resource as the provider has it, in the shapes the differ compares; secrets left out.
    static func observedValues(_ r: ObservedResource, desired: DesiredComponent?, schema: any ProviderSchema) -> ResourceValues {
        var values: [String: JSONValue] = [:]
        var sensitive: [String] = []
        for (name, value) in r.attributes {
            if desired?.attributes[name]?.sensitive == true || schema.isSecret(name, of: r) {
                sensitive.append(name)
            } else {
                values[name] = schema.comparable(name, of: r.kind, value)
            }
        }
        values["id"] = .string(r.id)
        values["tags"] = .object(schema.comparableTags(r.tags).mapValues { .string($0) })
        return ResourceValues(values: values, sensitive: sensitive)
    }

    /// The whole resource as the plan leaves it: the spec's attributes over what the provider has.
    /// Attributes set only at creation keep the provider's value on an existing resource; a new or
    /// replaced resource's id is known only after apply.
    static func desiredValues(_ c: DesiredComponent, _ resolved: [String: JSONValue], before: ResourceValues?, keepsID: Bool,
                              schema: any ProviderSchema) -> ResourceValues {
        var values = before?.values ?? [:]
        var sensitive: [String] = []
        for (name, attribute) in c.attributes {
            if attribute.sensitive {
                sensitive.append(name)
                values[name] = nil
            } else if attribute.update == .createOnly, before != nil {
                continue
            } else {
                values[name] = schema.comparable(name, of: c.kind, resolved[name] ?? attribute.value)
            }
        }
        values["id"] = keepsID ? before?.values["id"] ?? Ref.to(c.key) : Ref.to(c.key)
        values["tags"] = .object(c.tags.mapValues { .string($0) })
        return ResourceValues(values: values, sensitive: sensitive)
    }

    static func tagChanges(want: [String: String], have: [String: String]) -> [AttributeChange] {
        Set(want.keys).union(have.keys).sorted().compactMap { k in
            want[k] == have[k] ? nil : AttributeChange(attribute: "tags.\(k)", before: have[k].map { .string($0) }, after: want[k].map { .string($0) })
        }
    }

    static func reason(for name: String, component: DesiredComponent, want: JSONValue, input: Input, known: [ComponentKey: String], unresolved: Bool) -> String {
        if unresolved { return "\(name) follows a dependency that is created or replaced" }
        if let last = input.lastApplied?[component.key]?.attributes[name], Ref.resolve(last.value, ids: known) == want {
            return "drift: \(name) was changed outside reclaw"
        }
        return "spec change: \(name)"
    }

    static func reason(forTags component: DesiredComponent, input: Input, current: ObservedResource) -> String {
        if let last = input.lastApplied?[component.key], last.tags == component.tags { return "drift: tags were changed outside reclaw" }
        return "spec change: tags"
    }

    /// A created component must reach one that already exists: that one converges to it.
    static func converge(_ actions: inout [Action], _ c: Convergence, observed: ObservedDeployment) {
        guard actions.contains(where: { $0.key == c.created && $0.kind == .create }),
              let i = actions.firstIndex(where: { $0.key == c.converging && ($0.kind == .noop || $0.kind == .update) }),
              observed[c.converging] != nil else { return }
        actions[i].kind = .update
        if !actions[i].changes.contains(where: { $0.attribute == c.attribute }) {
            let current = observed[c.converging]?.attributes[c.attribute]
            actions[i].changes.append(AttributeChange(attribute: c.attribute, before: current, after: current))
        }
        actions[i].reasons.append(c.reason)
    }

    /// Deletions of the components no longer desired, dependents first. Look-alikes are never
    /// deleted: only what `observed.resources` holds (reclaw's own, once resolved by `Identity`).
    static func deletions(desired: DesiredGraph?, observed: ObservedDeployment, schema: any ProviderSchema) -> [Action] {
        var out: [Action] = []
        for key in schema.deletionOrder(Array(observed.resources.keys)) where desired?[key] == nil {
            for r in observed.resources[key] ?? [] {
                let cause: Action.Cause = desired == nil ? .destroying : .noLongerInSpec
                let reason = desired == nil ? "destroying the deployment" : "no longer in the spec"
                out.append(Action(key: key, resourceKind: r.kind, kind: .delete, resourceID: r.id, reasons: [reason],
                                  before: observedValues(r, desired: desired?[key], schema: schema), cause: cause))
            }
        }
        return out
    }

    /// Attributes that differ from the last applied state although the spec did not change them.
    static func drift(_ input: Input) -> [DriftItem] {
        // After a region change, the last apply describes another region: nothing here drifted from it.
        guard let last = input.lastApplied, last.region == input.desired.region else { return [] }
        let schema = input.schema
        let ids = input.observed.ids
        var items = input.observed.lookAlikeList.map { a in
            DriftItem(key: a.key, resourceID: a.resourceID, attribute: DriftItem.lookAlikeAttribute,
                      expected: a.recordedID.map { .string($0) } ?? .null, actual: .string(a.resourceID))
        }
        for component in last.components {
            guard let current = input.observed[component.key] else {
                if input.observed.unidentified[component.key] != nil { continue }
                items.append(DriftItem(key: component.key, resourceID: nil, attribute: "(resource)", expected: "present", actual: "missing"))
                continue
            }
            for name in component.attributes.keys.sorted() {
                let attribute = component.attributes[name]!
                guard attribute.update != .createOnly, !attribute.sensitive else { continue }
                let expected = schema.comparable(name, of: component.kind, Ref.resolve(attribute.value, ids: ids))
                let actual = schema.comparable(name, of: component.kind, current.attributes[name] ?? .null)
                if !Ref.isUnresolved(expected) && expected != actual {
                    items.append(DriftItem(key: component.key, resourceID: current.id, attribute: name, expected: expected, actual: actual))
                }
            }
            for change in tagChanges(want: component.tags, have: schema.comparableTags(current.tags)) {
                items.append(DriftItem(key: component.key, resourceID: current.id, attribute: change.attribute, expected: change.after, actual: change.before))
            }
        }
        return items
    }
}
