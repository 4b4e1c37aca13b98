import Foundation

/// Which replica handles which deployment, decided the way the DynamoDB lock client and the
/// Kinesis Client Library decide it, as a pure value: it is told what the lease table holds and
/// when, and answers with the writes to make. No clock is compared between hosts: a replica or a
/// lease counts as dead only once its record version has not moved for a whole lease duration on
/// this replica's own clock, and never longer than this replica's own lease duration, whatever a
/// record claims. Deployments are spread evenly over the live replicas (rendezvous
/// hashing with a cap of ⌈deployments / replicas⌉ each), and a held lease stops counting as held a
/// safety margin before it could be taken elsewhere. A replica announces itself (its heartbeat)
/// and waits a join interval before it takes any lease, so replicas started together see each
/// other; per round it takes at most ⌈free leases / live replicas⌉ of the free ones (counting
/// only the replicas still short of their share), plus the released leases rendezvous assigns it.
public struct LeaseCoordinator: Sendable {
    /// The longest lease a replica may take (`--lease-duration`): a dead owner's deployments wait
    /// at most this long, plus a round, for another replica.
    public static let maximumDuration: Duration = .seconds(300)
    /// The shortest: a round every fifth of it must fit a DynamoDB read and its writes.
    public static let minimumDuration: Duration = .seconds(3)

    public struct Settings: Sendable {
        public var replica: String
        public var duration: Duration
        /// After this long without a successful renewal, no new AWS call starts under the lease.
        public var renewDeadline: Duration
        /// How long after its first heartbeat is written a replica waits before it takes a lease:
        /// by then the heartbeats of peers started at the same time are in the table. One round
        /// (a fifth of the lease) unless told.
        public var joinInterval: Duration

        public init(replica: String, duration: Duration, renewDeadline: Duration? = nil, joinInterval: Duration? = nil) {
            let duration = min(duration, LeaseCoordinator.maximumDuration)
            self.replica = replica
            self.duration = duration
            self.renewDeadline = min(renewDeadline ?? duration * 2 / 3, duration * 2 / 3)
            self.joinInterval = max(joinInterval ?? duration / 5, .zero)
        }

        var durationMs: Int { Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000) }
    }

    /// A write to make to the lease table.
    public enum Action: Sendable, Hashable {
        /// Refresh this replica's heartbeat item.
        case heartbeat(ReplicaRecord)
        /// Remove this replica's heartbeat item: it is leaving, the others need not wait for it.
        case retire(String)
        /// Take a lease: write `record` if the stored version is `expecting` (nil: no item yet).
        case acquire(LeaseRecord, expecting: String?)
        /// Renew a held lease: a new version, if the stored one is still ours.
        case renew(LeaseRecord, expecting: String)
        /// Give a held lease up (no owner), so another replica takes it at once.
        case release(LeaseRecord, expecting: String)
    }

    /// How a write went.
    public enum Outcome: Sendable, Hashable {
        case written
        /// The stored version was not the expected one: someone else wrote the item.
        case conflict
        /// The table could not be reached (throttling, an outage): nothing is known.
        case failed
    }

    public let settings: Settings
    private var seen: [String: (version: String, since: Duration)] = [:]
    private var holds: [String: LeaseHold] = [:]
    private var counter = 0
    /// Since when each deployment has had no owner at all (released, or no item), on this clock.
    private var ownerlessSince: [String: Duration] = [:]
    private var unownedNow: [String: Unowned] = [:]
    /// When this replica's first heartbeat was sent (and written), on this clock.
    private var announcedAt: Duration?
    /// This replica's lease, shortened to the shortest any live replica announces in its heartbeat
    /// (never below the minimum): a replica with a shorter lease takes a record unchanged for that
    /// long, so this one renews, and stops starting calls, within it.
    public private(set) var effectiveDuration: Duration
    public private(set) var acquisitions = 0
    public private(set) var losses = 0

    /// When this replica may take its first lease: a join interval after its first heartbeat was
    /// written; nil until that heartbeat is written.
    public var joinsAt: Duration? { announcedAt.map { $0 + settings.joinInterval } }

    /// Whether this replica has announced itself and waited the join interval.
    public func hasJoined(now: Duration) -> Bool { joinsAt.map { now >= $0 } ?? false }

    public init(settings: Settings) {
        self.settings = settings
        effectiveDuration = settings.duration
    }

    // MARK: a round

    /// The writes of one round, given the table's records as read at `now` and the deployments of
    /// the revision in force. `busy` deployments are kept while their work runs, even when they
    /// should move; with `shuttingDown` every other held lease is released.
    public mutating func round(now: Duration, replicas: [ReplicaRecord], leases: [LeaseRecord], deployments: Set<String>,
                               busy: Set<String> = [], shuttingDown: Bool = false) -> [Action] {
        for r in replicas { observe("replica#\(r.id)", r.version, now) }
        for l in leases { observe("lease#\(l.deployment)", l.version, now) }
        let peers = replicas.filter { $0.id != settings.replica && isFresh("replica#\($0.id)", durationMs: $0.durationMs, now) }
        effectiveDuration = peers.reduce(settings.duration) { min($0, max(.milliseconds($1.durationMs), Self.minimumDuration)) }
        expire(now: now)
        let live = [settings.replica] + peers.map(\.id)
        let want = Self.assignment(deployments: Array(deployments), replicas: live)
        let records = Dictionary(leases.map { ($0.deployment, $0) }, uniquingKeysWith: { a, _ in a })
        judge(now: now, records: records, deployments: deployments, live: Set(live))
        let joined = hasJoined(now: now)
        // Free leases (no item, or an owner that stopped renewing) are taken a fair share per
        // round; released ones (a handover) go to the replica rendezvous assigns them to.
        let free = deployments.filter { d in
            holds[d] == nil && records[d].map { !$0.isReleased && takeable($0, now) } ?? true
        }
        var quota = Self.fairShare(free: free.count, of: live, holding: holdingCounts(records, live: live, now: now), want: want)
        var actions: [Action] = []
        if shuttingDown {
            actions.append(.retire(settings.replica))
        } else {
            actions.append(.heartbeat(ReplicaRecord(id: settings.replica, version: nextVersion(), durationMs: settings.durationMs)))
        }
        for d in deployments.union(holds.keys).sorted() {
            let record = records[d]
            if let hold = holds[d] {
                if let record, record.owner != settings.replica || record.version != hold.version {
                    lose(d)  // another replica took it
                    continue
                }
                var next = LeaseRecord(deployment: d, owner: settings.replica, version: nextVersion(), epoch: hold.epoch, durationMs: settings.durationMs)
                let keep = busy.contains(d) || (deployments.contains(d) && !shuttingDown && want[d] == settings.replica)
                if keep {
                    actions.append(.renew(next, expecting: hold.version))
                } else {
                    // From now on no work starts under it: a job that began after `busy` was read
                    // must not send calls while the release goes out and another replica takes over.
                    holds[d]?.releasing = true
                    next.owner = ""
                    actions.append(.release(next, expecting: hold.version))
                }
            } else if joined, !shuttingDown, deployments.contains(d), want[d] == settings.replica {
                if free.contains(d) {
                    guard quota > 0 else { continue }
                    quota -= 1
                }
                let version = nextVersion()
                guard let record else {
                    actions.append(.acquire(LeaseRecord(deployment: d, owner: settings.replica, version: version, epoch: 1,
                                                        durationMs: settings.durationMs), expecting: nil))
                    continue
                }
                // A released lease, or one whose owner has stopped renewing it for a whole lease.
                if record.isReleased || takeable(record, now) {
                    actions.append(.acquire(LeaseRecord(deployment: d, owner: settings.replica, version: version, epoch: record.epoch + 1,
                                                        durationMs: settings.durationMs), expecting: record.version))
                }
            }
        }
        return actions
    }

    /// Records how a write of this round went; `sentAt` is when it was sent (a renewal counts from
    /// then, never from when the answer came).
    public mutating func applied(_ action: Action, _ outcome: Outcome, sentAt: Duration) {
        switch (action, outcome) {
        case (.heartbeat, .written):
            if announcedAt == nil { announcedAt = sentAt }
        case (.heartbeat, _), (.retire, _):
            break
        case (.acquire(let r, _), .written):
            holds[r.deployment] = LeaseHold(epoch: r.epoch, version: r.version, renewedAt: sentAt)
            seen["lease#\(r.deployment)"] = (r.version, sentAt)
            acquisitions += 1
        case (.renew(let r, _), .written):
            holds[r.deployment]?.version = r.version
            holds[r.deployment]?.renewedAt = sentAt
            holds[r.deployment]?.releasing = false
            seen["lease#\(r.deployment)"] = (r.version, sentAt)
        case (.release(let r, _), .written):
            holds[r.deployment] = nil
        case (.renew(let r, _), .conflict), (.release(let r, _), .conflict):
            lose(r.deployment)
        case (.acquire, _), (.renew, .failed), (.release, .failed):
            break
        }
    }

    // MARK: what is held

    /// The lease of a deployment, if it is held with enough time left to start an AWS call: its
    /// last renewal is younger than the renew deadline, which is shorter than the lease, and no
    /// release of it is under way.
    public func hold(_ deployment: String, now: Duration) -> LeaseHold? {
        guard let h = holds[deployment], !h.releasing, now - h.renewedAt < renewDeadline else { return nil }
        return h
    }

    /// How long after a renewal work may still start: the settings' deadline, within the effective lease.
    public var renewDeadline: Duration { min(settings.renewDeadline, effectiveDuration * 2 / 3) }

    /// The deployments this replica may work on now.
    public func owned(now: Duration) -> Set<String> {
        Set(holds.keys.filter { hold($0, now: now) != nil })
    }

    /// Every lease still recorded as held (renewable), whether or not work may start under it.
    public var held: Set<String> { Set(holds.keys) }

    /// The deployments that should be owned and that no live replica owns, as of the last round:
    /// those whose lease this replica has since taken are left out.
    public var unowned: [String: Unowned] { unownedNow.filter { holds[$0.key] == nil } }

    /// Finds the deployments no live replica owns. An owner is live while its lease record keeps
    /// changing: one with a fresh heartbeat may leave it unchanged for half the (bounded) lease, one
    /// without for two of its rounds. A lease with no owner counts after two of this replica's rounds.
    private mutating func judge(now: Duration, records: [String: LeaseRecord], deployments: Set<String>, live: Set<String>) {
        var ownerless: [String: Duration] = [:]
        var found: [String: Unowned] = [:]
        for d in deployments where holds[d] == nil {
            guard let record = records[d], !record.isReleased else {
                let since = ownerlessSince[d] ?? now
                ownerless[d] = since
                if now - since >= settings.duration * 2 / 5 { found[d] = .noOwner }
                continue
            }
            guard let s = seen["lease#\(d)"] else { continue }
            let bound = bounded(record.durationMs)
            let ownerLive = record.owner != settings.replica && live.contains(record.owner)
            let unchanged = now - s.since
            if unchanged >= (ownerLive ? bound / 2 : bound * 2 / 5) { found[d] = .notRenewing(owner: record.owner, unchanged: unchanged) }
        }
        ownerlessSince = ownerless
        unownedNow = found
    }

    /// How long a record claiming `durationMs` may stay unchanged before it counts as dead: its
    /// claim, but never longer than this replica's own lease.
    private func bounded(_ durationMs: Int) -> Duration {
        min(.milliseconds(max(durationMs, 1)), settings.duration)
    }

    /// How many free leases a replica takes in one round: the free ones divided among the live
    /// replicas still short of their rendezvous share (this one among them), rounded up.
    public static func fairShare(free: Int, of live: [String], holding: [String: Int], want: [String: String]) -> Int {
        let shares = Dictionary(grouping: want.values, by: { $0 }).mapValues(\.count)
        let short = live.filter { holding[$0, default: 0] < shares[$0, default: 0] }.count
        return (free + max(short, 1) - 1) / max(short, 1)
    }

    /// The leases each live replica holds, as the table shows them (this replica's from its own holds).
    private func holdingCounts(_ records: [String: LeaseRecord], live: [String], now: Duration) -> [String: Int] {
        var out: [String: Int] = [settings.replica: holds.count]
        let peers = Set(live).subtracting([settings.replica])
        for r in records.values where peers.contains(r.owner) && !takeable(r, now) { out[r.owner, default: 0] += 1 }
        return out
    }

    /// Whether a lease another replica may still name can be taken: its record is this replica's
    /// own (from before a restart), or its owner has not renewed it for a whole (bounded) lease.
    private func takeable(_ record: LeaseRecord, _ now: Duration) -> Bool {
        record.owner == settings.replica || !isFresh("lease#\(record.deployment)", durationMs: record.durationMs, now)
    }

    private mutating func expire(now: Duration) {
        for (d, h) in holds where now - h.renewedAt >= effectiveDuration { lose(d) }
    }

    private mutating func lose(_ deployment: String) {
        if holds.removeValue(forKey: deployment) != nil { losses += 1 }
    }

    private mutating func observe(_ key: String, _ version: String, _ now: Duration) {
        if seen[key]?.version != version { seen[key] = (version, now) }
    }

    private func isFresh(_ key: String, durationMs: Int, _ now: Duration) -> Bool {
        guard let s = seen[key] else { return true }
        return now - s.since < bounded(durationMs)
    }

    private mutating func nextVersion() -> String {
        counter += 1
        return "\(settings.replica)/\(counter)"
    }
}
