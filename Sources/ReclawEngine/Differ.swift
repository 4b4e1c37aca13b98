import Foundation
import ReclawJSON

/// Compares the desired graph with what AWS has and produces the plan: create, update, replace,
/// delete or nothing for every component, with each changed attribute as `before → after`, the
/// drift since the last apply kept apart, and replacements held back unless allowed.
public enum Differ {
    public struct Input: Sendable {
        public var desired: DesiredGraph
        public var observed: ObservedDeployment
        public var allowReplace: Bool
        /// What the last successful apply made AWS look like, for telling drift from spec changes.
        public var lastApplied: DesiredGraph?
        public var revision: String
        /// Other regions that still hold resources of the deployment (its spec's region changed).
        public var otherRegions: [String]

        public init(desired: DesiredGraph, observed: ObservedDeployment, allowReplace: Bool, lastApplied: DesiredGraph? = nil, revision: String,
                    otherRegions: [String] = []) {
            self.desired = desired
            self.observed = observed
            self.allowReplace = allowReplace
            self.lastApplied = lastApplied
            self.revision = revision
            self.otherRegions = otherRegions
        }
    }

    public static func plan(_ input: Input, id: String? = nil) -> Plan {
        let desired = input.desired
        let observed = input.observed
        var changingIDs = Set<ComponentKey>()
        var actions: [Action] = []
        // Components that cannot be told from their look-alikes, and everything built on them: held back.
        var heldBack: [ComponentKey: ComponentKey] = Dictionary(uniqueKeysWithValues: observed.unidentified.keys.map { ($0, $0) })
        for component in desired.components {
            if let unidentified = observed.unidentified[component.key] {
                actions.append(Action(key: component.key, resourceKind: component.kind, kind: .noop, reasons: ["look-alikes: \(unidentified.candidates.joined(separator: ", "))"],
                                      blocked: unidentified.message(component.key), blockKind: .unidentified))
                continue
            }
            if let root = component.dependsOn.lazy.compactMap({ heldBack[$0] }).first {
                heldBack[component.key] = root
                actions.append(Action(key: component.key, resourceKind: component.kind, kind: .noop, resourceID: observed[component.key]?.id,
                                      blocked: "held back: it is built on \(root), which reclaw cannot identify", blockKind: .unidentified))
                continue
            }
            let known = observed.ids.filter { !changingIDs.contains($0.key) }
            let resolved = component.attributes.mapValues { Ref.resolve($0.value, ids: known) }
            guard let current = observed[component.key] else {
                changingIDs.insert(component.key)
                actions.append(Action(key: component.key, resourceKind: component.kind, kind: .create,
                                      changes: creationChanges(component, resolved),
                                      reasons: [input.lastApplied?[component.key] == nil ? "new in the spec" : "missing in AWS (deleted outside reclaw?)"],
                                      after: desiredValues(component, resolved, before: nil, keepsID: false)))
                continue
            }
            var changes: [AttributeChange] = []
            var reasons: [String] = []
            var blocked: String?
            var blockKind: Action.BlockKind?
            for name in component.attributes.keys.sorted() {
                let attribute = component.attributes[name]!
                guard attribute.update != .createOnly else { continue }
                let want = Self.comparable(name, resolved[name]!)
                let have = Self.comparable(name, current.attributes[name] ?? .null)
                let unresolved = Ref.isUnresolved(want)
                guard unresolved || want != have else { continue }
                changes.append(AttributeChange(attribute: name, before: have, after: unresolved ? nil : want, sensitive: attribute.sensitive,
                                               requiresReplacement: attribute.update == .replace, knownAfterApply: unresolved))
                reasons.append(reason(for: name, component: component, want: want, input: input, known: known, unresolved: unresolved))
                if name == "rootVolumeGiB", let w = want.intValue, let h = have.intValue, w < h {
                    blocked = "the root volume cannot shrink (\(h) GiB → \(w) GiB); EBS volumes only grow"
                    blockKind = .change
                }
            }
            let tagChanges = Self.tagChanges(want: component.tags, have: Normalize.comparableTags(current.tags))
            if !tagChanges.isEmpty {
                changes += tagChanges
                reasons.append(reason(forTags: component, input: input, current: current))
            }
            let kind: Action.Kind
            if changes.contains(where: \.requiresReplacement) {
                kind = .replace
                let fields = changes.filter(\.requiresReplacement).map(\.attribute)
                if !input.allowReplace {
                    blockKind = .replacement
                    blocked = "replacing \(component.key) (\(fields.joined(separator: ", ")) cannot change in place) needs policy.allowReplace: true"
                } else {
                    changingIDs.insert(component.key)
                }
            } else {
                kind = changes.isEmpty ? .noop : .update
            }
            let before = observedValues(current, desired: component)
            actions.append(Action(key: component.key, resourceKind: component.kind, kind: kind, resourceID: current.id,
                                  changes: changes, reasons: Array(Set(reasons)).sorted(), blocked: blocked, blockKind: blocked == nil ? nil : blockKind,
                                  before: before,
                                  after: desiredValues(component, resolved, before: before, keepsID: kind != .replace)))
        }
        convergeAfterNewToken(&actions, observed: observed)
        actions += deletions(desired: desired, observed: observed)
        var notes = notes(observed)
        if !input.otherRegions.isEmpty {
            let old = input.otherRegions.joined(separator: ", ")
            if input.allowReplace {
                notes.append("the deployment moves from \(old) to \(desired.region): once \(desired.region) is Ready, its resources in \(old) are deleted "
                    + "(but the IAM role and instance profile, which \(desired.region) uses)")
            } else {
                // A region change replaces every regional resource: nothing happens without allowReplace.
                let why = "spec.region changed from \(old) to \(desired.region): every resource would be replaced in the new region; "
                    + "this needs policy.allowReplace: true"
                for i in actions.indices where actions[i].blocked == nil && (actions[i].kind != .noop || !actions[i].resourceKind.isGlobal) {
                    actions[i].blocked = why
                    actions[i].blockKind = .replacement
                }
            }
        }
        return Plan(id: id ?? UUID().uuidString.lowercased(), deployment: desired.deployment, revision: input.revision, region: desired.region,
                    actions: actions, drift: drift(input), notes: notes, lookAlikes: observed.lookAlikeList)
    }

    /// A plan that deletes everything of the deployment, dependents first.
    public static func destroy(_ observed: ObservedDeployment, region: String, revision: String, id: String? = nil) -> Plan {
        Plan(id: id ?? UUID().uuidString.lowercased(), deployment: observed.deployment, revision: revision, region: region,
             actions: deletions(desired: nil, observed: observed))
    }

    // MARK: parts

    /// Attributes that are sets: compared regardless of order.
    public static let setAttributes: Set<String> = ["ingress", "egress", "routes", "subnets", "securityGroups", "managedPolicies", "roles",
                                                         "internetGatewayRoutes"]

    static func comparable(_ name: String, _ value: JSONValue) -> JSONValue {
        guard setAttributes.contains(name), case .array(let items) = value, !Ref.isUnresolved(value) else { return value }
        return Normalize.set(items)
    }

    static func creationChanges(_ component: DesiredComponent, _ resolved: [String: JSONValue]) -> [AttributeChange] {
        var changes = component.attributes.keys.sorted().compactMap { name -> AttributeChange? in
            let a = component.attributes[name]!
            let value = resolved[name]!
            if value == .null && !a.sensitive { return nil }
            return AttributeChange(attribute: name, before: nil, after: Ref.isUnresolved(value) ? nil : value, sensitive: a.sensitive,
                                   knownAfterApply: Ref.isUnresolved(value))
        }
        let userTags = component.tags.filter { !$0.key.hasPrefix("reclaw:") && $0.key != OwnershipTags.name }
        if !userTags.isEmpty {
            changes.append(AttributeChange(attribute: "tags", before: nil, after: .object(userTags.mapValues { .string($0) })))
        }
        return changes
    }

    /// The whole resource as AWS has it, in the shapes the differ compares; secrets left out.
    static func observedValues(_ r: ObservedResource, desired: DesiredComponent?) -> ResourceValues {
        var values: [String: JSONValue] = [:]
        var sensitive: [String] = []
        for (name, value) in r.attributes {
            let secureString = r.kind == .parameter && name == "value" && r.attributes["type"]?.stringValue == "SecureString"
            if desired?.attributes[name]?.sensitive == true || secureString {
                sensitive.append(name)
            } else {
                values[name] = comparable(name, value)
            }
        }
        values["id"] = .string(r.id)
        values["tags"] = .object(Normalize.comparableTags(r.tags).mapValues { .string($0) })
        return ResourceValues(values: values, sensitive: sensitive)
    }

    /// The whole resource as the plan leaves it: the spec's attributes over what AWS has. Attributes
    /// set only at creation keep AWS's value on an existing resource; a new or replaced resource's
    /// id is known only after apply.
    static func desiredValues(_ c: DesiredComponent, _ resolved: [String: JSONValue], before: ResourceValues?, keepsID: Bool) -> ResourceValues {
        var values = before?.values ?? [:]
        var sensitive: [String] = []
        for (name, attribute) in c.attributes {
            if attribute.sensitive {
                sensitive.append(name)
                values[name] = nil
            } else if attribute.update == .createOnly, before != nil {
                continue
            } else {
                values[name] = comparable(name, resolved[name] ?? attribute.value)
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

    /// A new gateway token must reach an instance that already runs: converge it.
    static func convergeAfterNewToken(_ actions: inout [Action], observed: ObservedDeployment) {
        guard actions.contains(where: { $0.key == Components.gatewayToken && $0.kind == .create }),
              let i = actions.firstIndex(where: { $0.key == Components.instance && ($0.kind == .noop || $0.kind == .update) }),
              observed[Components.instance] != nil else { return }
        actions[i].kind = .update
        if !actions[i].changes.contains(where: { $0.attribute == "config" }) {
            let digest = observed[Components.instance]?.attributes["config"]
            actions[i].changes.append(AttributeChange(attribute: "config", before: digest, after: digest))
        }
        actions[i].reasons.append("the gateway token was recreated; the instance converges to it")
    }

    /// Deletions of the components no longer desired, dependents first. Look-alikes are never
    /// deleted: only what `observed.resources` holds (reclaw's own, once resolved by `Identity`).
    static func deletions(desired: DesiredGraph?, observed: ObservedDeployment) -> [Action] {
        var out: [Action] = []
        for key in deletionOrder(Array(observed.resources.keys)) where desired?[key] == nil {
            for r in observed.resources[key] ?? [] {
                let reason = desired == nil ? "destroying the deployment" : "no longer in the spec"
                out.append(Action(key: key, resourceKind: r.kind, kind: .delete, resourceID: r.id, reasons: [reason],
                                  before: observedValues(r, desired: desired?[key])))
            }
        }
        return out
    }

    /// Keys ordered so every component comes before the components it depends on.
    public static func deletionOrder(_ keys: [ComponentKey]) -> [ComponentKey] {
        creationOrder(keys).reversed()
    }

    /// Keys ordered so every component comes after the components it depends on.
    public static func creationOrder(_ keys: [ComponentKey]) -> [ComponentKey] {
        let present = Set(keys)
        var visited = Set<ComponentKey>()
        var out: [ComponentKey] = []
        func visit(_ k: ComponentKey) {
            guard present.contains(k), visited.insert(k).inserted else { return }
            for d in Components.dependencies(of: k) { visit(d) }
            out.append(k)
        }
        for k in keys.sorted() { visit(k) }
        return out
    }

    /// Attributes that differ from the last applied state although the spec did not change them.
    static func drift(_ input: Input) -> [DriftItem] {
        // After a region change, the last apply describes another region: nothing here drifted from it.
        guard let last = input.lastApplied, last.region == input.desired.region else { return [] }
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
                let expected = comparable(name, Ref.resolve(attribute.value, ids: ids))
                let actual = comparable(name, current.attributes[name] ?? .null)
                if !Ref.isUnresolved(expected) && expected != actual {
                    items.append(DriftItem(key: component.key, resourceID: current.id, attribute: name, expected: expected, actual: actual))
                }
            }
            for change in tagChanges(want: component.tags, have: Normalize.comparableTags(current.tags)) {
                items.append(DriftItem(key: component.key, resourceID: current.id, attribute: change.attribute, expected: change.after, actual: change.before))
            }
        }
        return items
    }

    static func notes(_ observed: ObservedDeployment) -> [String] {
        guard let instance = observed[Components.instance], let latest = instance.details["latestImage"]?.stringValue,
              let running = instance.details["imageId"]?.stringValue, latest != running else { return [] }
        let reference = instance.attributes["image"]?.stringValue ?? "the image parameter"
        return ["a newer AMI \(latest) is available behind \(reference); the instance keeps \(running) (pin image: \(latest) with policy.allowReplace: true to move to it)"]
    }
}
