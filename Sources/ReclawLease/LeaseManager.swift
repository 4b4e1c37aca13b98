import Foundation
import Logging
import ReclawAWS
import ReclawTime
import ReclawState
import ServiceLifecycle
import Synchronization

/// One replica's share of the deployments: every round it reads the lease table, heartbeats,
/// acquires, renews and releases through `LeaseCoordinator`, and tells the daemon which
/// deployments it gained or lost. It fences every mutating AWS call: a call for a deployment whose
/// lease this replica does not hold with time left is refused before it is sent, and the
/// deployment's changed state (its journal entry first) reaches the table, conditioned on the
/// lease's epoch, before the call goes.
public final class LeaseManager: Service, AWSCallObserver, Sendable {
    public let table: DynamoLeaseTable
    public let settings: LeaseCoordinator.Settings
    let clock: any TimeSource
    let stateDirectory: String
    let changes: StateChanges
    let metrics: any LeaseCounters
    let logger: Logger

    struct Inner: Sendable {
        var coordinator: LeaseCoordinator
        var deployments: Set<String> = []
        /// Deployments with state kept in the table, as last read.
        var withState: Set<String> = []
        var owned: Set<String> = []
        var shuttingDown = false
        /// The daemon has stopped: nothing is busy any more, every lease goes.
        var finalRounds: Int?
        var reported = (acquisitions: 0, losses: 0)
        var lastReadFailure: Duration?
        /// Deployments no live replica owns, as of the last round.
        var unowned: [String: Unowned] = [:]
        /// The lease versions already noted as unowned in the table, by deployment.
        var noted: [String: String] = [:]
        /// Replicas of an older lease scheme last logged.
        var olderPeers: [String] = []
        /// When the table was last searched for older replicas' heartbeats (not in the index).
        var searchedOlderAt: Duration?
    }

    /// Told what this replica gained and lost, after each round.
    public typealias Listener = @Sendable (_ gained: Set<String>, _ lost: Set<String>) async -> Void

    let inner: Mutex<Inner>
    private let listener = Mutex<Listener?>(nil)
    private let busy = Mutex<(@Sendable () -> Set<String>)?>(nil)
    /// Set to end the wait between rounds early (the deployments changed, a shutdown began).
    private let woken = Mutex(false)

    /// With `prune`, deployments whose spec left the repository stay leased (someone must prune
    /// them) as long as they have state in the table.
    public let prune: Bool

    public init(table: DynamoLeaseTable, settings: LeaseCoordinator.Settings, clock: any TimeSource, stateDirectory: String,
                changes: StateChanges, metrics: any LeaseCounters, prune: Bool = false, logger: Logger) {
        self.prune = prune
        self.table = table
        self.settings = settings
        self.clock = clock
        self.stateDirectory = stateDirectory
        self.changes = changes
        self.metrics = metrics
        self.logger = logger
        inner = Mutex(Inner(coordinator: LeaseCoordinator(settings: settings)))
    }

    private func wakeUp() { woken.withLock { $0 = true } }

    public var replica: String { settings.replica }

    /// How often a round runs: five times per lease (the shortest any live replica announces).
    public var period: Duration { inner.withLock { $0.coordinator.enforced } / 5 }

    /// Connects the daemon: who to tell about ownership changes, and which deployments are busy
    /// (kept, even when they should move, until their work ends).
    public func connect(listener: @escaping Listener, busy: @escaping @Sendable () -> Set<String>) {
        self.listener.withLock { $0 = listener }
        self.busy.withLock { $0 = busy }
    }

    /// The deployments of the revision in force.
    public func setDeployments(_ names: Set<String>) {
        let changed = inner.withLock { i -> Bool in
            defer { i.deployments = names }
            return i.deployments != names
        }
        if changed { wakeUp() }
    }

    /// The deployments this replica may work on now.
    public var owned: Set<String> { inner.withLock { $0.owned } }

    /// The deployments no live replica owns (held by an owner that does not renew, or by none),
    /// as of the last round.
    public var unowned: [String: Unowned] { inner.withLock { $0.unowned } }

    /// The deployments with state in the table (every replica's), as last read.
    public var withState: Set<String> { inner.withLock { $0.withState } }

    /// Stops acquiring; releases every lease whose deployment is not busy at once, the rest as
    /// their work ends.
    public func beginShutdown() {
        inner.withLock { $0.shuttingDown = true }
        wakeUp()
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled {
                let started = clock.now()
                await round()
                // Once the daemon has stopped, a few rounds to release what is left; a lease the
                // table would not take back lapses on its own.
                let done = inner.withLock { i in
                    (i.shuttingDown && i.coordinator.held.isEmpty) || (i.finalRounds.map { $0 >= 3 } ?? false)
                }
                if done { break }
                await sleep(until: nextRound(after: started))
            }
        } onGracefulShutdown: {
            // The group shuts the daemon down first: by now no deployment is busy.
            self.inner.withLock { i in
                i.shuttingDown = true
                i.finalRounds = 0
            }
            self.wakeUp()
        }
        // A last try to leave nothing held (the table may have been unreachable).
        if !inner.withLock({ $0.coordinator.held.isEmpty }) { await round() }
        metrics.replicaActive(replica, false)
    }

    /// When the next round runs: a period after the last one started (however long it took),
    /// sooner when the join interval ends before that, and soon while the last rounds release what
    /// is left.
    private func nextRound(after started: Duration) -> Duration {
        let now = clock.now()
        let (final, joinsAt) = inner.withLock { ($0.finalRounds != nil, $0.coordinator.joinsAt) }
        if final { return now + .milliseconds(200) }
        let next = started + period
        guard let joinsAt, joinsAt > now else { return next }
        return min(next, joinsAt)
    }

    /// Announces this replica, waits the join interval, and runs the first round that may take
    /// leases (for `reclaw run --once`, which works only on what it holds after that).
    public func join() async {
        await round()
        while let at = inner.withLock({ $0.coordinator.joinsAt }), clock.now() < at, !Task.isCancelled {
            await sleep(until: at)
        }
        await round()
    }

    /// Waits until `deadline`, or less when woken; a tenth of a second at a time.
    private func sleep(until deadline: Duration) async {
        while clock.now() < deadline, !Task.isCancelled {
            if woken.withLock({ w in defer { w = false }; return w }) { return }
            do { try await clock.sleep(until: min(deadline, clock.now() + .milliseconds(100))) } catch { return }
        }
    }

    // MARK: a round

    /// Reads the table, makes the coordinator's writes, and reports what changed hands (the
    /// service runs one every `period`; `reclaw run --once` runs them itself).
    public func round() async {
        await searchOlderReplicas()
        let readAt = clock.now()
        let records: (replicas: [ReplicaRecord], leases: [LeaseRecord])
        do {
            records = try await table.read()
        } catch {
            let log = inner.withLock { i -> Bool in
                // A round that cannot read still counts towards the last ones: shutdown never waits on the table.
                if let n = i.finalRounds { i.finalRounds = n + 1 }
                defer { i.lastReadFailure = readAt }
                return i.lastReadFailure.map { readAt - $0 > .seconds(60) } ?? true
            }
            if log { logger.warning("the lease table cannot be read; held leases lapse at their renew deadline", metadata: ["error": "\(error)"]) }
            await report()
            return
        }
        let final = inner.withLock { i -> Bool in
            if let n = i.finalRounds { i.finalRounds = n + 1 }
            return i.finalRounds != nil
        }
        let busyNow = final ? [] : busy.withLock { $0 }?() ?? []
        let now = clock.now()
        let actions = inner.withLock { i in
            i.withState = Set(records.leases.filter(\.hasState).map(\.deployment))
            let deployments = prune ? i.deployments.union(i.withState) : i.deployments
            return i.coordinator.round(now: now, replicas: records.replicas, leases: records.leases, deployments: deployments, busy: busyNow,
                                       shuttingDown: i.shuttingDown)
        }
        await withTaskGroup(of: (LeaseCoordinator.Action, LeaseCoordinator.Outcome, Duration).self) { group in
            var running = 0
            for action in actions {
                if running >= 16, let (a, o, at) = await group.next() {
                    let answeredAt = clock.now()
                    inner.withLock { $0.coordinator.applied(a, o, sentAt: at, answeredAt: answeredAt) }
                    running -= 1
                }
                running += 1
                group.addTask {
                    let sentAt = self.clock.now()
                    return (action, await self.table.write(action, as: self.replica), sentAt)
                }
            }
            for await (a, o, at) in group {
                let answeredAt = clock.now()
                inner.withLock { $0.coordinator.applied(a, o, sentAt: at, answeredAt: answeredAt) }
            }
        }
        await noteUnowned(records.leases)
        reportOlderPeers()
        await report()
    }

    /// Keeps what the coordinator found unowned, logs it when it changes, and leaves a note on each
    /// such lease for `reclaw status`.
    private func noteUnowned(_ leases: [LeaseRecord]) async {
        let versions = Dictionary(leases.map { ($0.deployment, $0.version) }, uniquingKeysWith: { a, _ in a })
        let (found, newly, toNote) = inner.withLock { i in
            let found = i.coordinator.unowned
            let newly = Set(found.keys).subtracting(i.unowned.keys)
            i.unowned = found
            i.noted = i.noted.filter { found[$0.key] != nil && versions[$0.key] == $0.value }
            let toNote = found.keys.compactMap { d in versions[d].flatMap { i.noted[d] == $0 ? nil : (d, $0) } }
            return (found, newly, toNote)
        }
        metrics.unowned(Set(found.keys))
        for d in newly.sorted() {
            logger.warning("no live replica owns the deployment", metadata: ["deployment": "\(d)", "reason": "\(found[d]!)"])
        }
        for (d, version) in toNote.sorted(by: { $0.0 < $1.0 }) {
            do {
                try await table.noteUnowned(d, version: version, note: "\(replica) saw that \(found[d]!)")
                inner.withLock { $0.noted[d] = version }
            } catch {
                logger.debug("cannot note an unowned lease", metadata: ["deployment": "\(d)", "error": "\(error)"])
            }
        }
    }

    /// Publishes ownership: metrics, the log, and the daemon.
    private func report() async {
        let now = clock.now()
        let (gained, lost, held, acquired, losses) = inner.withLock { i in
            let owned = i.coordinator.owned(now: now)
            defer {
                i.owned = owned
                i.reported = (i.coordinator.acquisitions, i.coordinator.losses)
            }
            return (owned.subtracting(i.owned), i.owned.subtracting(owned), owned.count,
                    i.coordinator.acquisitions - i.reported.acquisitions, i.coordinator.losses - i.reported.losses)
        }
        metrics.leases(held: held)
        metrics.replicaActive(replica, true)
        for _ in 0..<acquired { metrics.leaseAcquired() }
        for _ in 0..<losses { metrics.leaseLost() }
        guard !gained.isEmpty || !lost.isEmpty else { return }
        logger.info("leases changed hands", metadata: ["replica": "\(replica)", "gained": "\(gained.sorted())", "lost": "\(lost.sorted())",
                                                        "held": "\(held)"])
        if let listener = listener.withLock({ $0 }) { await listener(gained, lost) }
    }
}

/// Why a deployment's lease does not allow an action.
public struct LeaseError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
