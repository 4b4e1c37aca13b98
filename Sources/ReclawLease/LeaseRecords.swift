import Foundation

/// One deployment's lease, as stored in the lease table: who owns the deployment, the record
/// version every write changes (a contender watches it), and the epoch every change of owner
/// increments (the fencing token that status writes are conditioned on).
public struct LeaseRecord: Sendable, Hashable {
    public var deployment: String
    /// The owning replica; empty when the lease was released.
    public var owner: String
    public var version: String
    public var epoch: Int
    /// The lease duration its owner promised to renew within, in milliseconds.
    public var durationMs: Int
    /// Whether the deployment still has state (a status) kept with its lease: a deployment whose
    /// spec left the repository is still owned by someone until it is pruned.
    public var hasState: Bool
    /// A note left by a replica that saw no live replica owning the deployment (who saw it, and
    /// why); every write of its owner clears it.
    public var unownedNote: String?

    public init(deployment: String, owner: String, version: String, epoch: Int, durationMs: Int, hasState: Bool = false,
                unownedNote: String? = nil) {
        self.deployment = deployment
        self.owner = owner
        self.version = version
        self.epoch = epoch
        self.durationMs = durationMs
        self.hasState = hasState
        self.unownedNote = unownedNote
    }

    public var isReleased: Bool { owner.isEmpty }
}

/// A replica's heartbeat item: its version changes on every heartbeat, so the others can tell a
/// live replica from a dead one by watching it on their own clocks. The heartbeat renews every
/// lease its replica holds: a lease item is written only when its owner changes.
public struct ReplicaRecord: Sendable, Hashable {
    /// The lease scheme this build speaks: 2, one heartbeat renewing every lease. A replica whose
    /// heartbeat names no scheme renews each lease item itself, and must not share a table with this one.
    public static let currentScheme = 2

    public var id: String
    public var version: String
    /// The replica's `--lease-duration`: the others shorten theirs to the shortest announced.
    public var durationMs: Int
    /// The lease the replica enforces on itself as of this heartbeat (its own, or a peer's shorter
    /// one): how long the others wait for this heartbeat to move before taking its leases.
    public var enforcedMs: Int?
    /// Another replica saw this heartbeat stand still for a whole lease and marked it: the replica
    /// it belongs to renews nothing from then on, and its leases may be taken.
    public var expired: Bool
    /// The replica is shutting down: it renews the leases its running work holds, and takes no
    /// share of the deployments any more.
    public var leaving: Bool
    public var scheme: Int

    public init(id: String, version: String, durationMs: Int, enforcedMs: Int? = nil, expired: Bool = false, leaving: Bool = false,
                scheme: Int = ReplicaRecord.currentScheme) {
        self.id = id
        self.version = version
        self.durationMs = durationMs
        self.enforcedMs = enforcedMs
        self.expired = expired
        self.leaving = leaving
        self.scheme = scheme
    }
}

/// A lease this replica holds, as far as it knows.
public struct LeaseHold: Sendable, Hashable {
    public var epoch: Int
    public var version: String
    /// When the last successful write of the lease was sent (this replica's monotonic clock).
    public var renewedAt: Duration
    /// A release of the lease is under way: no new work may start under it, though the table
    /// still names this replica until the release is written.
    public var releasing = false
    /// Versions of rewrites whose answer was lost: the item may stand at any of them.
    public var pending: Set<String> = []
}

/// Why no live replica owns a deployment, as one replica sees it.
public enum Unowned: Sendable, Hashable, CustomStringConvertible {
    /// The lease was released, or has no item, and nobody took it.
    case noOwner
    /// The lease names an owner that has not renewed it: a dead replica, or a record written by hand.
    case notRenewing(owner: String, unchanged: Duration)

    public var description: String {
        switch self {
        case .noOwner: "its lease has no owner"
        case .notRenewing(let owner, let unchanged): "its owner \(owner) has not renewed its lease for \(unchanged.components.seconds)s"
        }
    }
}
