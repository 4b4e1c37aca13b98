import Foundation

/// Who is alive, what may be taken, and what this replica may act on: every judgement made on
/// this replica's own clock from how long a heartbeat has stood still.
extension LeaseCoordinator {
    // MARK: what is held

    /// The lease of a deployment, if it is held with enough time left to start an AWS call: its
    /// last renewal is younger than the renew deadline, which is shorter than the lease, and no
    /// release of it is under way.
    public func hold(_ deployment: String, now: Duration) -> LeaseHold? {
        guard let h = holds[deployment], !h.releasing, !doubted.contains(deployment), now - h.renewedAt < renewDeadline else { return nil }
        return h
    }

    /// The lease this replica holds itself to: its effective lease, and never longer than the last
    /// heartbeat that landed announced (a lengthening counts once the others can have read it).
    public var enforced: Duration { min(effectiveDuration, announcedEnforced ?? effectiveDuration) }

    /// How long after a renewal work may still start: the settings' deadline, within the enforced lease.
    public var renewDeadline: Duration { min(settings.renewDeadline, enforced * 2 / 3) }

    /// The deployments this replica may work on now.
    public func owned(now: Duration) -> Set<String> {
        Set(holds.keys.filter { hold($0, now: now) != nil })
    }

    /// Every lease still recorded as held (renewable), whether or not work may start under it.
    public var held: Set<String> { Set(holds.keys) }

    /// The deployments that should be owned and that no live replica owns, as of the last round:
    /// those whose lease this replica has since taken are left out.
    public var unowned: [String: Unowned] { unownedNow.filter { holds[$0.key] == nil } }

    // MARK: liveness

    /// Notes which heartbeats moved since the last round, and since when each owner named by a
    /// lease has had no heartbeat item; answers the heartbeats by replica.
    mutating func observe(replicas: [ReplicaRecord], leases: [LeaseRecord], now: Duration) -> [String: ReplicaRecord] {
        let heartbeats = Dictionary(replicas.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // An expired mark is not a sign of life: the silence counts on from the last real heartbeat.
        for r in replicas where !r.expired && seen["replica#\(r.id)"]?.version != r.version {
            seen["replica#\(r.id)"] = (r.version, now)
        }
        for owner in Set(leases.map(\.owner)) where !owner.isEmpty && heartbeats[owner] == nil && seen["replica#\(owner)"] == nil {
            seen["replica#\(owner)"] = ("", now)
        }
        return heartbeats
    }

    /// Whether a replica's heartbeat is live: not marked expired, and changed within its (bounded) lease.
    func isLive(_ r: ReplicaRecord, _ now: Duration) -> Bool {
        !r.expired && silence(r.id, now) < claim(r)
    }

    /// How long a heartbeat may stand still before its replica counts as dead: the lease it says it
    /// enforces, up to the longest any replica may take. Waiting less could take leases from a
    /// replica that may still act (one with a longer lease, paused before it read this one's).
    func claim(_ r: ReplicaRecord) -> Duration {
        min(.milliseconds(max(r.enforcedMs ?? r.durationMs, 1)), LeaseCoordinator.maximumDuration)
    }

    /// Whether leases naming this replica, not held by it, may be taken or released: once this
    /// session's first heartbeat was answered, plus as long as a previous process of this name
    /// said it may act (a restart while the old process is paused, or the same name twice).
    func mayTouchOwn(_ now: Duration) -> Bool {
        confirmedAt.map { now >= $0 + predecessorBound } ?? false
    }

    /// How long a replica's heartbeat has stood still (or been absent) on this clock.
    func silence(_ replica: String, _ now: Duration) -> Duration {
        seen["replica#\(replica)"].map { now - $0.since } ?? .zero
    }

    /// Whether a lease naming another owner may be taken: it is this replica's own (from a session
    /// before a restart), its owner's heartbeat was marked expired, or its owner has had no
    /// heartbeat item for a whole (bounded) lease. A silent heartbeat is marked expired first.
    func ownerGone(_ record: LeaseRecord, _ heartbeats: [String: ReplicaRecord], _ now: Duration) -> Bool {
        if record.owner == settings.replica { return mayTouchOwn(now) }
        guard let heartbeat = heartbeats[record.owner] else { return silence(record.owner, now) >= bounded(record.durationMs) }
        return heartbeat.expired
    }

    /// The owners of leases whose heartbeat has stood still for a whole (bounded) lease and is not
    /// yet marked expired: each is marked before any of its leases is taken.
    func silentOwners(_ leases: [LeaseRecord], _ heartbeats: [String: ReplicaRecord], now: Duration) -> [ReplicaRecord] {
        let owners = Set(leases.map(\.owner)).subtracting(["", settings.replica])
        return owners.sorted().compactMap { heartbeats[$0] }.filter { !$0.expired && !isLive($0, now) }
    }

    /// Finds the deployments no live replica owns: a lease with no owner for two of this replica's
    /// rounds, or whose owner's heartbeat has stood still (or been absent) for two of them.
    mutating func judge(now: Duration, records: [String: LeaseRecord], deployments: Set<String>, live: Set<String>) {
        var ownerless: [String: Duration] = [:]
        var found: [String: Unowned] = [:]
        let twoRounds = settings.duration * 2 / 5
        for d in deployments where holds[d] == nil {
            guard let record = records[d], !record.isReleased, record.owner != settings.replica else {
                let since = ownerlessSince[d] ?? now
                ownerless[d] = since
                if now - since >= twoRounds { found[d] = .noOwner }
                continue
            }
            guard !live.contains(record.owner) else { continue }
            let unchanged = silence(record.owner, now)
            if unchanged >= twoRounds { found[d] = .notRenewing(owner: record.owner, unchanged: unchanged) }
        }
        ownerlessSince = ownerless
        unownedNow = found
    }

    /// How long a record claiming `durationMs` may stay unchanged before it counts as dead: its
    /// claim, but never longer than this replica's own lease.
    func bounded(_ durationMs: Int) -> Duration {
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
    func holdingCounts(_ records: [String: LeaseRecord], live: [String]) -> [String: Int] {
        var out: [String: Int] = [settings.replica: holds.count]
        let peers = Set(live).subtracting([settings.replica])
        for r in records.values where peers.contains(r.owner) { out[r.owner, default: 0] += 1 }
        return out
    }

    /// Drops the holds not renewed for a whole lease: another replica may have them by now.
    mutating func expire(now: Duration) {
        for (d, h) in holds where now - h.renewedAt >= enforced { lose(d) }
    }
}
