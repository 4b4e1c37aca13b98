import Foundation

/// Which replica handles which deployment, decided the way the DynamoDB lock client and the
/// Kinesis Client Library decide it, as a pure value: it is told what the lease table holds and
/// when, and answers with the writes to make. No clock is compared between hosts: a replica or a
/// lease counts as dead only once its record version has not moved for a whole lease duration on
/// this replica's own clock. Deployments are spread evenly over the live replicas (rendezvous
/// hashing with a cap of ⌈deployments / replicas⌉ each), and a held lease stops counting as held a
/// safety margin before it could be taken elsewhere.
public struct LeaseCoordinator: Sendable {
    public struct Settings: Sendable {
        public var replica: String
        public var duration: Duration
        /// After this long without a successful renewal, no new AWS call starts under the lease.
        public var renewDeadline: Duration

        public init(replica: String, duration: Duration, renewDeadline: Duration? = nil) {
            self.replica = replica
            self.duration = duration
            self.renewDeadline = renewDeadline ?? duration * 2 / 3
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
    public private(set) var acquisitions = 0
    public private(set) var losses = 0

    public init(settings: Settings) {
        self.settings = settings
    }

    // MARK: a round

    /// The writes of one round, given the table's records as read at `now` and the deployments of
    /// the revision in force. `busy` deployments are kept while their work runs, even when they
    /// should move; with `shuttingDown` every other held lease is released.
    public mutating func round(now: Duration, replicas: [ReplicaRecord], leases: [LeaseRecord], deployments: Set<String>,
                               busy: Set<String> = [], shuttingDown: Bool = false) -> [Action] {
        for r in replicas { observe("replica#\(r.id)", r.version, now) }
        for l in leases { observe("lease#\(l.deployment)", l.version, now) }
        expire(now: now)
        let live = [settings.replica] + replicas.filter { $0.id != settings.replica && isFresh("replica#\($0.id)", durationMs: $0.durationMs, now) }.map(\.id)
        let want = Self.assignment(deployments: Array(deployments), replicas: live)
        let records = Dictionary(leases.map { ($0.deployment, $0) }, uniquingKeysWith: { a, _ in a })
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
            } else if !shuttingDown, deployments.contains(d), want[d] == settings.replica {
                let version = nextVersion()
                guard let record else {
                    actions.append(.acquire(LeaseRecord(deployment: d, owner: settings.replica, version: version, epoch: 1,
                                                        durationMs: settings.durationMs), expecting: nil))
                    continue
                }
                // A released lease, or one whose owner has stopped renewing it for a whole lease.
                if record.isReleased || record.owner == settings.replica || !isFresh("lease#\(d)", durationMs: record.durationMs, now) {
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
        guard let h = holds[deployment], !h.releasing, now - h.renewedAt < settings.renewDeadline else { return nil }
        return h
    }

    /// The deployments this replica may work on now.
    public func owned(now: Duration) -> Set<String> {
        Set(holds.keys.filter { hold($0, now: now) != nil })
    }

    /// Every lease still recorded as held (renewable), whether or not work may start under it.
    public var held: Set<String> { Set(holds.keys) }

    private mutating func expire(now: Duration) {
        for (d, h) in holds where now - h.renewedAt >= settings.duration { lose(d) }
    }

    private mutating func lose(_ deployment: String) {
        if holds.removeValue(forKey: deployment) != nil { losses += 1 }
    }

    private mutating func observe(_ key: String, _ version: String, _ now: Duration) {
        if seen[key]?.version != version { seen[key] = (version, now) }
    }

    private func isFresh(_ key: String, durationMs: Int, _ now: Duration) -> Bool {
        guard let s = seen[key] else { return true }
        return now - s.since < .milliseconds(max(durationMs, 1))
    }

    private mutating func nextVersion() -> String {
        counter += 1
        return "\(settings.replica)/\(counter)"
    }

    // MARK: assignment

    /// An even, stable assignment every replica computes alike from the same view: deployments
    /// in a fixed order, each to the highest-scoring replica (rendezvous hashing) that still has
    /// room, so every replica gets ⌊deployments / replicas⌋ or one more.
    public static func assignment(deployments: [String], replicas: [String]) -> [String: String] {
        let live = Array(Set(replicas)).sorted()
        guard !live.isEmpty else { return [:] }
        let base = deployments.count / live.count
        let remainder = deployments.count % live.count
        var load: [String: Int] = [:]
        var fuller = 0  // replicas given base + 1
        var out: [String: String] = [:]
        for d in deployments.sorted(by: { (fnv1a($0), $0) < (fnv1a($1), $1) }) {
            let ranked = live.sorted { (fnv1a("\(d)|\($0)"), $0) > (fnv1a("\(d)|\($1)"), $1) }
            guard let chosen = ranked.first(where: { r in
                let n = load[r, default: 0]
                return n < base || (n == base && fuller < remainder)
            }) else { continue }
            if load[chosen, default: 0] == base { fuller += 1 }
            out[d] = chosen
            load[chosen, default: 0] += 1
        }
        return out
    }

    /// FNV-1a, 64 bits: the same on every host (Swift's Hasher is seeded per process).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
