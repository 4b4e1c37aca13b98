import Foundation
import ReclawJSON
import ReclawTime

/// One attribute's change, `before → after`; sensitive values are never kept.
public struct AttributeChange: Sendable, Hashable, Codable {
    public var attribute: String
    public var before: JSONValue?
    public var after: JSONValue?
    public var sensitive: Bool
    /// The change cannot be made in place.
    public var requiresReplacement: Bool
    /// The new value is only known once dependencies are created.
    public var knownAfterApply: Bool

    public init(attribute: String, before: JSONValue?, after: JSONValue?, sensitive: Bool = false,
                requiresReplacement: Bool = false, knownAfterApply: Bool = false) {
        self.attribute = attribute
        self.before = sensitive ? nil : before
        self.after = sensitive ? nil : after
        self.sensitive = sensitive
        self.requiresReplacement = requiresReplacement
        self.knownAfterApply = knownAfterApply
    }
}

/// A resource's whole attribute object on one side of a change, as Terraform's plan shows
/// `before` and `after`: every attribute with its id and tags. A value that still holds a reference
/// (`{"$ref": KEY}`) is known only after apply; sensitive attributes are named, never valued.
public struct ResourceValues: Sendable, Hashable, Codable {
    public var values: [String: JSONValue]
    /// Attributes whose values are never shown (the gateway token).
    public var sensitive: [String]

    public init(values: [String: JSONValue], sensitive: [String] = []) {
        self.values = values
        self.sensitive = sensitive.sorted()
    }
}

/// What the plan does to one component.
public struct Action: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, Hashable {
        case create, update, replace, delete, noop

        /// The plan symbol: `+`, `~`, `-/+`, `-`.
        public var symbol: String {
            switch self {
            case .create: return "+"
            case .update: return "~"
            case .replace: return "-/+"
            case .delete: return "-"
            case .noop: return " "
            }
        }
    }

    public var key: ComponentKey
    public var resourceKind: ResourceKind
    public var kind: Kind
    /// The existing resource's id, if there is one.
    public var resourceID: String?
    public var changes: [AttributeChange]
    public var reasons: [String]
    /// What kind of obstacle holds an action back.
    public enum BlockKind: String, Sendable, Codable, Hashable {
        /// A replacement the spec does not allow (`policy.allowReplace`).
        case replacement
        /// A change AWS cannot make (a root volume that would shrink).
        case change
        /// The component cannot be told apart from resources that carry its tags.
        case unidentified
    }

    /// Why an action is what it is, as a value (the `reasons` say it in words): plan JSON's
    /// `action_reason` comes from it.
    public enum Cause: String, Sendable, Codable, Hashable {
        /// A replacement: something changed that cannot change in place.
        case cannotUpdate
        /// A deletion of a component the spec no longer has.
        case noLongerInSpec
        /// A deletion of the whole deployment.
        case destroying
    }

    /// Why the action will not be applied (a replacement without allowReplace, a volume that cannot shrink).
    public var blocked: String?
    public var blockKind: BlockKind?
    /// The whole resource as AWS has it now (nil when it does not exist yet).
    public var before: ResourceValues?
    /// The whole resource as the action leaves it (nil when it is deleted).
    public var after: ResourceValues?
    /// Why, as a value (nil: nothing beyond the kind of action).
    public var cause: Cause?

    public init(key: ComponentKey, resourceKind: ResourceKind, kind: Kind, resourceID: String? = nil, changes: [AttributeChange] = [],
                reasons: [String] = [], blocked: String? = nil, blockKind: BlockKind? = nil, before: ResourceValues? = nil, after: ResourceValues? = nil,
                cause: Cause? = nil) {
        self.key = key
        self.resourceKind = resourceKind
        self.kind = kind
        self.resourceID = resourceID
        self.changes = changes
        self.reasons = reasons
        self.blocked = blocked
        self.blockKind = blocked == nil ? nil : blockKind ?? .replacement
        self.before = before
        self.after = after
        self.cause = cause ?? (kind == .replace ? .cannotUpdate : nil)
    }
}

/// An attribute that differs from what the last apply left, found without any spec change.
public struct DriftItem: Sendable, Hashable, Codable {
    public var key: ComponentKey
    public var resourceID: String?
    public var attribute: String
    /// The value reclaw last applied.
    public var expected: JSONValue?
    /// The value AWS has now.
    public var actual: JSONValue?

    public init(key: ComponentKey, resourceID: String?, attribute: String, expected: JSONValue?, actual: JSONValue?) {
        self.key = key
        self.resourceID = resourceID
        self.attribute = attribute
        self.expected = expected
        self.actual = actual
    }
}

/// A deployment's plan: the actions that take AWS from what it is to what the spec says, the drift
/// found on the way, and information worth knowing.
public struct Plan: Sendable, Hashable, Codable {
    public var id: String
    public var deployment: String
    public var revision: String
    public var region: String
    public var createdAt: Date
    public var actions: [Action]
    public var drift: [DriftItem]
    public var notes: [String]
    /// Resources that carry a component's tags without being reclaw's: reported, never touched.
    public var lookAlikes: [LookAlike]
    /// The kind of every component the plan names, as its provider declared it.
    public var kinds: [ComponentKey: ResourceKind]
    /// What each component the plan names depends on, as its provider declared it: the order of
    /// deletions when no desired graph says it.
    public var dependencies: [ComponentKey: [ComponentKey]]

    public init(id: String = UUID().uuidString.lowercased(), deployment: String, revision: String, region: String,
                createdAt: Date = Clocks.date(), actions: [Action], drift: [DriftItem] = [], notes: [String] = [], lookAlikes: [LookAlike] = [],
                kinds: [ComponentKey: ResourceKind] = [:], dependencies: [ComponentKey: [ComponentKey]] = [:]) {
        self.id = id
        self.deployment = deployment
        self.revision = revision
        self.region = region
        self.createdAt = createdAt
        self.actions = actions
        self.drift = drift
        self.notes = notes
        self.lookAlikes = lookAlikes
        self.kinds = kinds
        self.dependencies = dependencies
    }

    /// The actions that change something, and those held back (which the plan must show and an
    /// apply must report).
    public var changes: [Action] { actions.filter { $0.kind != .noop || $0.blocked != nil } }

    public var hasChanges: Bool { !changes.isEmpty }

    public var blocked: [Action] { actions.filter { $0.blocked != nil } }

    /// The keys whose resources nothing in this plan may delete or replace: those of blocked actions.
    public var blockedKeys: Set<ComponentKey> { Set(blocked.map(\.key)) }

    public func count(_ kind: Action.Kind) -> Int { actions.filter { $0.kind == kind }.count }

    /// `Plan: 3 to add, 1 to change, 0 to replace, 0 to destroy.`
    public var summary: String {
        "Plan: \(count(.create)) to add, \(count(.update)) to change, \(count(.replace)) to replace, \(count(.delete)) to destroy."
    }
}
