import Foundation
import ReclawJSON

/// Compares the desired graph with what AWS has and produces the plan: create, update, replace,
/// delete or nothing for every component, with each changed attribute as `before → after`, the
/// drift since the last apply kept apart, and replacements held back unless allowed.
public enum Differ {
    public struct Input: Sendable {
        /// The provider's declarations: kinds, dependencies, how attributes compare.
        public var schema: any ProviderSchema
        public var desired: DesiredGraph
        public var observed: ObservedDeployment
        public var allowReplace: Bool
        /// What the last successful apply made AWS look like, for telling drift from spec changes.
        public var lastApplied: DesiredGraph?
        public var revision: String
        /// Other regions that still hold resources of the deployment (its spec's region changed).
        public var otherRegions: [String]

        public init(schema: any ProviderSchema, desired: DesiredGraph, observed: ObservedDeployment, allowReplace: Bool, lastApplied: DesiredGraph? = nil,
                    revision: String, otherRegions: [String] = []) {
            self.schema = schema
            self.desired = desired
            self.observed = observed
            self.allowReplace = allowReplace
            self.lastApplied = lastApplied
            self.revision = revision
            self.otherRegions = otherRegions
        }
    }

    public static func plan(_ input: Input, id: String? = nil) -> Plan {
        let schema = input.schema
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
                                      changes: creationChanges(component, resolved, schema: schema),
                                      reasons: [input.lastApplied?[component.key] == nil ? "new in the spec" : "missing in AWS (deleted outside reclaw?)"],
                                      after: desiredValues(component, resolved, before: nil, keepsID: false, schema: schema)))
                continue
            }
            var changes: [AttributeChange] = []
            var reasons: [String] = []
            var blocked: String?
            var blockKind: Action.BlockKind?
            for name in component.attributes.keys.sorted() {
                let attribute = component.attributes[name]!
                guard attribute.update != .createOnly else { continue }
                let rule = schema.rule(name, of: component.kind)
                let want = schema.comparable(name, of: component.kind, resolved[name]!)
                let have = schema.comparable(name, of: component.kind, current.attributes[name] ?? .null)
                let unresolved = Ref.isUnresolved(want)
                guard unresolved || want != have else { continue }
                changes.append(AttributeChange(attribute: name, before: have, after: unresolved ? nil : want, sensitive: attribute.sensitive,
                                               requiresReplacement: attribute.update == .replace, knownAfterApply: unresolved))
                reasons.append(reason(for: name, component: component, want: want, input: input, known: known, unresolved: unresolved))
                if case .growOnly(let growOnly) = rule.comparison, let w = want.intValue, let h = have.intValue, w < h {
                    blocked = growOnly.blocked(have: h, want: w)
                    blockKind = .change
                }
            }
            let tagChanges = Self.tagChanges(want: component.tags, have: schema.comparableTags(current.tags))
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
            let before = observedValues(current, desired: component, schema: schema)
            actions.append(Action(key: component.key, resourceKind: component.kind, kind: kind, resourceID: current.id,
                                  changes: changes, reasons: Array(Set(reasons)).sorted(), blocked: blocked, blockKind: blocked == nil ? nil : blockKind,
                                  before: before,
                                  after: desiredValues(component, resolved, before: before, keepsID: kind != .replace, schema: schema)))
        }
        for convergence in schema.convergences { converge(&actions, convergence, observed: observed) }
        actions += deletions(desired: desired, observed: observed, schema: schema)
        var notes = schema.notes(observed)
        if !input.otherRegions.isEmpty {
            let old = input.otherRegions.joined(separator: ", ")
            if input.allowReplace {
                notes.append("the deployment moves from \(old) to \(desired.region): once \(desired.region) is Ready, its resources in \(old) are deleted "
                    + "(but \(schema.globalKindsInWords), which \(desired.region) uses)")
            } else {
                // A region change replaces every regional resource: nothing happens without allowReplace.
                let why = "spec.region changed from \(old) to \(desired.region): every resource would be replaced in the new region; "
                    + "this needs policy.allowReplace: true"
                for i in actions.indices where actions[i].blocked == nil && (actions[i].kind != .noop || !schema.isGlobal(actions[i].resourceKind)) {
                    actions[i].blocked = why
                    actions[i].blockKind = .replacement
                }
            }
        }
        let drift = drift(input)
        var kinds: [ComponentKey: ResourceKind] = [:]
        for c in (input.lastApplied?.components ?? []) + desired.components { kinds[c.key] = c.kind }
        for a in actions { kinds[a.key] = a.resourceKind }
        return Plan(id: id ?? UUID().uuidString.lowercased(), deployment: desired.deployment, revision: input.revision, region: desired.region,
                    actions: actions, drift: drift, notes: notes, lookAlikes: observed.lookAlikeList,
                    kinds: kinds, dependencies: dependencies(actions.map(\.key) + drift.map(\.key), schema))
    }

    /// A plan that deletes everything of the deployment, dependents first.
    public static func destroy(_ observed: ObservedDeployment, schema: any ProviderSchema, region: String, revision: String, id: String? = nil) -> Plan {
        let actions = deletions(desired: nil, observed: observed, schema: schema)
        return Plan(id: id ?? UUID().uuidString.lowercased(), deployment: observed.deployment, revision: revision, region: region,
                    actions: actions, kinds: Dictionary(actions.map { ($0.key, $0.resourceKind) }, uniquingKeysWith: { a, _ in a }),
                    dependencies: dependencies(actions.map(\.key), schema))
    }

    /// What each key depends on, as the schema declares it.
    static func dependencies(_ keys: [ComponentKey], _ schema: any ProviderSchema) -> [ComponentKey: [ComponentKey]] {
        Dictionary(keys.map { ($0, schema.dependencies(of: $0)) }, uniquingKeysWith: { a, _ in a })
    }
}
