import Foundation

/// Which replica handles which deployment, decided the way the DynamoDB lock client and the
/// Kinesis Client Library decide it, as a pure value: it is told what the lease table holds and
/// when, and answers with the writes to make. No clock is compared between hosts: a replica counts
/// as dead only once its heartbeat has not moved for a whole lease duration on this replica's own
/// clock, and never longer than this replica's own lease duration, whatever a record claims.
///
/// A replica's heartbeat renews every lease it holds, so the table's writes per second depend on
/// the number of replicas, not of deployments: a deployment's item is written only when its owner
/// changes, conditioned on the version it had. A replica whose heartbeat stood still for a whole
/// lease is first marked expired (a conditional write on that heartbeat), and only then are its
/// leases taken: from that moment its own heartbeats fail, so it renews nothing it held.
///
/// Deployments are spread evenly over the live replicas (rendezvous hashing with a cap of
/// ⌈deployments / replicas⌉ each), and a held lease stops counting as held a safety margin before
/// it could be taken elsewhere. A replica announces itself and waits a join interval before it
/// takes any lease, so replicas started together see each other; per round it takes at most
/// ⌈free leases / live replicas⌉ of the free ones (counting only the replicas still short of their
/// share), plus the released leases rendezvous assigns it.
public struct LeaseCoordinator: Sendable {
    /// The longest lease a replica may take (`--lease-duration`): a dead owner's deployments wait
    /// at most this long, plus a round, for another replica.
    public static let maximumDuration: Duration = .seconds(300)
    /// The shortest: a round every fifth of it must fit a DynamoDB read and its writes.
    public static let minimumDuration: Duration = .seconds(3)

    /// How one replica leases: its name, its lease, when it stops starting calls, when it joins.
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

        var durationMs: Int { LeaseCoordinator.milliseconds(duration) }
    }

    /// A write to make to the lease table.
    public enum Action: Sendable, Hashable {
        /// Refresh this replica's heartbeat item, renewing every lease it holds: only while the item
        /// still stands at one of `expecting` (the versions this replica wrote last; empty: a new
        /// session, written whatever is stored).
        case heartbeat(ReplicaRecord, expecting: [String])
        /// Remove this replica's heartbeat item: it is leaving, the others need not wait for it.
        case retire(String)
        /// Mark a replica whose heartbeat has stood still for a whole lease as expired, if it still
        /// stands at `expecting`: its next heartbeat fails, and its leases may be taken.
        case expire(ReplicaRecord, expecting: String)
        /// Take a lease: write `record` if the stored version is `expecting` (nil: no item yet).
        case acquire(LeaseRecord, expecting: String?)
        /// Rewrite a held lease with a new version, if the stored one is still ours: after a release
        /// that may or may not have landed, or to clear a note another replica left on it.
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
    /// Each replica's heartbeat (`replica#ID`) as last seen changing, on this clock; an owner with
    /// no heartbeat item counts from when its absence was first seen.
    var seen: [String: (version: String, since: Duration)] = [:]
    var holds: [String: LeaseHold] = [:]
    /// Held leases the last read showed with another owner or version, or not at all.
    var doubted: Set<String> = []
    var counter = 0
    /// Since when each deployment has had no owner at all (released, or no item), on this clock.
    var ownerlessSince: [String: Duration] = [:]
    var unownedNow: [String: Unowned] = [:]
    /// When this replica's first heartbeat of its session was sent (and written), on this clock.
    var announcedAt: Duration?
    /// The versions this replica's heartbeat item may stand at: the last one written, and any sent
    /// since whose answer was lost. Empty until a session starts.
    var session: [String] = []
    /// A random tag in every version this session writes, so no version repeats across sessions.
    var sessionTag = LeaseCoordinator.newTag()
    /// When the last successful heartbeat was sent: every hold counts from it, and from nothing else.
    var lastBeat: Duration?
    /// The lease the last successful heartbeat announced as enforced.
    var announcedEnforced: Duration?
    /// When this session's first heartbeat was answered, and how long a previous process with this
    /// replica's name may still act: leases naming this replica are not touched before both passed.
    var confirmedAt: Duration?
    var predecessorBound: Duration = .zero
    /// This replica's lease, shortened to the shortest any live replica announces in its heartbeat
    /// (never below the minimum): a replica with a shorter lease takes a record unchanged for that
    /// long, so this one renews, and stops starting calls, within it.
    public internal(set) var effectiveDuration: Duration
    public internal(set) var acquisitions = 0
    public internal(set) var losses = 0
    /// Live replicas of an older lease scheme, as of the last round: while there are any, this
    /// replica holds no lease (theirs would take its leases as never renewed).
    public internal(set) var olderPeers: [String] = []

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
        let heartbeats = observe(replicas: replicas, leases: leases, now: now)
        if session.isEmpty, confirmedAt == nil {
            // A previous process of this name may still act for as long as its heartbeat said.
            predecessorBound = max(heartbeats[settings.replica].map(claim) ?? .zero, settings.duration)
        }
        let peers = replicas.filter { $0.id != settings.replica && isLive($0, now) }
        effectiveDuration = peers.reduce(settings.duration) { min($0, max(.milliseconds($1.durationMs), Self.minimumDuration)) }
        expire(now: now)
        olderPeers = peers.filter { $0.scheme < ReplicaRecord.currentScheme }.map(\.id).sorted()
        let records = Dictionary(leases.map { ($0.deployment, $0) }, uniquingKeysWith: { a, _ in a })
        if !olderPeers.isEmpty {
            // Fail closed: hand everything over and take nothing while an older replica shares the table.
            let released = holds.keys.sorted().compactMap { d in records[d].flatMap { release(d, $0, busy: []) } }
            return [heartbeat(leaving: shuttingDown)] + released
        }
        // A leaving peer still renews what its running work holds, but takes no new share.
        let live = [settings.replica] + peers.filter { !$0.leaving }.map(\.id)
        let want = Self.assignment(deployments: Array(deployments), replicas: live)
        judge(now: now, records: records, deployments: deployments, live: Set(live))
        let joined = hasJoined(now: now)
        // Free leases (no item, or an owner gone) are taken a fair share per round; released ones
        // (a handover) go to the replica rendezvous assigns them to.
        let free = Set(deployments.filter { d in
            holds[d] == nil && records[d].map { !$0.isReleased && ownerGone($0, heartbeats, now) } ?? true
        })
        var quota = Self.fairShare(free: free.count, of: live, holding: holdingCounts(records, live: live), want: want)
        var actions: [Action] = []
        var releasing: Set<String> = []
        for d in deployments.union(holds.keys).sorted() {
            let record = records[d]
            if let hold = holds[d] {
                if let record, record.owner == settings.replica, hold.pending.contains(record.version) {
                    holds[d]?.version = record.version  // a rewrite whose answer was lost landed
                    holds[d]?.pending = []
                }
                guard let record, record.owner == settings.replica, record.version == holds[d]?.version else {
                    // Another replica took it, or the item is gone; or the read (an index, eventually
                    // consistent) is a moment behind this replica's own write: lost once two reads agree.
                    if doubted.contains(d) { lose(d) } else { doubted.insert(d) }
                    continue
                }
                doubted.remove(d)
                let keep = busy.contains(d) || (deployments.contains(d) && !shuttingDown && want[d] == settings.replica)
                if !keep, let action = release(d, record, busy: busy) {
                    releasing.insert(d)
                    actions.append(action)
                } else if hold.releasing || record.unownedNote != nil {
                    // A release that may have landed, or a note to clear: the heartbeat cannot tell.
                    actions.append(.renew(LeaseRecord(deployment: d, owner: settings.replica, version: nextVersion(), epoch: hold.epoch,
                                                      durationMs: settings.durationMs), expecting: hold.version))
                }
            } else if joined, !shuttingDown, deployments.contains(d), want[d] == settings.replica {
                if free.contains(d) {
                    guard quota > 0 else { continue }
                    quota -= 1
                }
                guard let record else {
                    actions.append(.acquire(LeaseRecord(deployment: d, owner: settings.replica, version: nextVersion(), epoch: 1,
                                                        durationMs: settings.durationMs), expecting: nil))
                    continue
                }
                if record.isReleased || ownerGone(record, heartbeats, now) {
                    actions.append(.acquire(LeaseRecord(deployment: d, owner: settings.replica, version: nextVersion(), epoch: record.epoch + 1,
                                                        durationMs: settings.durationMs), expecting: record.version))
                }
            } else if let record, record.owner == settings.replica, mayTouchOwn(now) {
                // Named as owner without holding it (a previous session's lease, or an item written
                // by hand): while this replica's heartbeat is live nobody else would take it, so it
                // lets it go for the replica rendezvous assigns it to.
                actions.append(.release(LeaseRecord(deployment: d, owner: "", version: nextVersion(), epoch: record.epoch,
                                                    durationMs: settings.durationMs), expecting: record.version))
            }
        }
        if !shuttingDown { actions += silentOwners(leases, heartbeats, now: now).map { .expire($0, expecting: $0.version) } }
        // Leaving: the heartbeat goes once nothing is held, until then it keeps renewing the busy leases.
        let leaving = shuttingDown && Set(holds.keys).isSubset(of: releasing)
        return [leaving ? .retire(settings.replica) : heartbeat(leaving: shuttingDown)] + actions
    }

    /// Records how a write of this round went; `sentAt` is when it was sent (a renewal counts from
    /// then, never from when the answer came).
    public mutating func applied(_ action: Action, _ outcome: Outcome, sentAt: Duration, answeredAt: Duration? = nil) {
        switch (action, outcome) {
        case (.heartbeat(let r, _), .written):
            session = [r.version]
            if announcedAt == nil { announcedAt = sentAt }
            if confirmedAt == nil { confirmedAt = answeredAt ?? sentAt }
            announcedEnforced = .milliseconds(r.enforcedMs ?? r.durationMs)
            lastBeat = max(lastBeat ?? sentAt, sentAt)
            for (d, h) in holds { holds[d]?.renewedAt = max(h.renewedAt, sentAt) }
        case (.heartbeat(let r, _), .failed):
            // It may have landed: the next heartbeat accepts either version.
            if !session.isEmpty { session = Array((session + [r.version]).suffix(8)) }
        case (.heartbeat, .conflict):
            // Marked expired (or removed) by another replica: nothing held is ours any more; rejoin.
            for d in holds.keys { lose(d) }
            session = []
            sessionTag = Self.newTag()
            announcedAt = nil
            confirmedAt = nil
            lastBeat = nil
            announcedEnforced = nil
        case (.retire, _), (.expire, _):
            break
        case (.acquire(let r, _), .written):
            // Held from the last heartbeat that landed: a lease write proves nothing about the session
            // (another replica may have marked it expired meanwhile).
            guard !session.isEmpty, let lastBeat else { break }
            holds[r.deployment] = LeaseHold(epoch: r.epoch, version: r.version, renewedAt: lastBeat)
            acquisitions += 1
        case (.renew(let r, _), .written):
            holds[r.deployment]?.version = r.version
            holds[r.deployment]?.pending = []
            holds[r.deployment]?.releasing = false
        case (.renew(let r, _), .failed):
            holds[r.deployment]?.pending.insert(r.version)
        case (.release(let r, _), .written):
            holds[r.deployment] = nil
        case (.renew(let r, _), .conflict), (.release(let r, _), .conflict):
            lose(r.deployment)
        case (.acquire, _), (.release, .failed):
            break
        }
    }

    private mutating func heartbeat(leaving: Bool) -> Action {
        .heartbeat(ReplicaRecord(id: settings.replica, version: nextVersion(), durationMs: settings.durationMs,
                                 enforcedMs: Self.milliseconds(effectiveDuration), leaving: leaving), expecting: session)
    }

    /// A release of a held lease, unless its work is running. From now on no work starts under it:
    /// a job that began after `busy` was read must not send calls while the release goes out and
    /// another replica takes over.
    private mutating func release(_ d: String, _ record: LeaseRecord, busy: Set<String>) -> Action? {
        guard let hold = holds[d], !busy.contains(d) else { return nil }
        holds[d]?.releasing = true
        return .release(LeaseRecord(deployment: d, owner: "", version: nextVersion(), epoch: hold.epoch, durationMs: settings.durationMs),
                        expecting: hold.version)
    }

    mutating func lose(_ deployment: String) {
        doubted.remove(deployment)
        if holds.removeValue(forKey: deployment) != nil { losses += 1 }
    }

    private mutating func nextVersion() -> String {
        counter += 1
        return "\(settings.replica)/\(sessionTag)/\(counter)"
    }

    static func newTag() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 36) }

    static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }
}
