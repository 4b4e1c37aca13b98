import Foundation
import ReclawLease
import Testing

/// Replicas sharing deployments through a lease table, driven by hand: an in-memory table with
/// DynamoDB's conditional writes, and each replica's own clock.
@Suite struct LeaseCoordinatorTests {
    /// The lease table: conditional on the stored version, as DynamoDB's ConditionExpression is.
    struct Table {
        var replicas: [String: ReplicaRecord] = [:]
        var leases: [String: LeaseRecord] = [:]

        mutating func apply(_ action: LeaseCoordinator.Action) -> LeaseCoordinator.Outcome {
            switch action {
            case .heartbeat(let r, let expecting):
                guard expecting.isEmpty || expecting.contains(replicas[r.id]?.version ?? "") else { return .conflict }
                replicas[r.id] = r
                return .written
            case .retire(let id):
                replicas[id] = nil
                return .written
            case .expire(let r, let expecting):
                guard replicas[r.id]?.version == expecting else { return .conflict }
                replicas[r.id] = ReplicaRecord(id: r.id, version: "expired at \(expecting)", durationMs: r.durationMs, expired: true)
                return .written
            case .acquire(let r, let expecting), .renew(let r, let expecting as String?), .release(let r, let expecting as String?):
                guard leases[r.deployment]?.version == expecting else { return .conflict }
                leases[r.deployment] = r
                return .written
            }
        }
    }

    static let lease = Duration.seconds(20)

    /// One round of a replica at `now`: read the table, write, record the outcomes.
    static func round(_ c: inout LeaseCoordinator, _ table: inout Table, now: Duration, deployments: Set<String>,
                      busy: Set<String> = [], shuttingDown: Bool = false) {
        let actions = c.round(now: now, replicas: Array(table.replicas.values), leases: Array(table.leases.values),
                              deployments: deployments, busy: busy, shuttingDown: shuttingDown)
        for a in actions { c.applied(a, table.apply(a), sentAt: now) }
    }

    static func replica(_ id: String) -> LeaseCoordinator {
        LeaseCoordinator(settings: .init(replica: id, duration: lease))
    }

    /// A replica that announced itself a join interval before `at`, so it may take leases from `at` on.
    static func joined(_ c: LeaseCoordinator, _ table: inout Table, at: Duration = .zero) -> LeaseCoordinator {
        var c = c
        round(&c, &table, now: at - c.settings.joinInterval, deployments: [])
        return c
    }

    let deployments = Set((0..<30).map { "d\($0)" })

    @Test func thirtyDeploymentsSpreadEvenlyOverThreeReplicasEachOwnedByOne() {
        var table = Table()
        var replicas = ["r1", "r2", "r3"].map(Self.replica)
        for step in 0..<4 {
            for i in replicas.indices { Self.round(&replicas[i], &table, now: .seconds(step * 4), deployments: deployments) }
        }
        let owned = replicas.map { $0.owned(now: .seconds(12)) }
        #expect(owned.map(\.count) == [10, 10, 10], "\(owned.map(\.count))")
        #expect(owned.reduce(Set<String>()) { $0.union($1) } == deployments)
        #expect(owned[0].isDisjoint(with: owned[1]) && owned[1].isDisjoint(with: owned[2]) && owned[0].isDisjoint(with: owned[2]))
    }

    @Test func theAssignmentIsBalancedForAnyNumberOfReplicas() {
        for n in 1...7 {
            let replicas = (0..<n).map { "host-\($0)" }
            let a = LeaseCoordinator.assignment(deployments: Array(deployments), replicas: replicas)
            let loads = Dictionary(grouping: a.values, by: { $0 }).mapValues(\.count)
            #expect(a.count == deployments.count)
            #expect((loads.values.max() ?? 0) - (loads.values.min() ?? 0) <= 1, "\(n) replicas: \(loads)")
        }
    }

    @Test func aDeadReplicasDeploymentsMoveAfterOneLeaseOnTheSurvivorsOwnClock() {
        var table = Table()
        var a = Self.replica("a"), b = Self.replica("b")
        for t in stride(from: 0, through: 8, by: 4) {
            Self.round(&a, &table, now: .seconds(t), deployments: deployments)
            Self.round(&b, &table, now: .seconds(t), deployments: deployments)
        }
        let aHad = a.owned(now: .seconds(8))
        #expect(aHad.count == 15)
        // a dies at 8 s; b keeps going and must not take a's leases before a whole lease has passed.
        var moved: Duration?
        for t in stride(from: 12, through: 60, by: 4) {
            Self.round(&b, &table, now: .seconds(t), deployments: deployments)
            if moved == nil, b.owned(now: .seconds(t)).isSuperset(of: aHad) { moved = .seconds(t) }
            if t < 28 { #expect(b.owned(now: .seconds(t)).isDisjoint(with: aHad), "taken at \(t)s, before a lease had passed") }
        }
        // Dead after 20 s unchanged (by 32 s), reassigned, and its leases' versions stale too.
        #expect(moved != nil && moved! <= .seconds(8) + Self.lease + .seconds(8), "moved at \(String(describing: moved))")
        #expect(b.owned(now: .seconds(60)) == deployments)
    }

    @Test func aReplicaThatCannotRenewStopsStartingCallsBeforeItsLeaseCanBeTaken() {
        var table = Table()
        var a = Self.joined(Self.replica("a"), &table)
        Self.round(&a, &table, now: .zero, deployments: ["d1"])
        #expect(a.hold("d1", now: .seconds(13)) != nil)
        // The table is unreachable: no renewal lands.
        let actions = a.round(now: .seconds(4), replicas: [], leases: Array(table.leases.values), deployments: ["d1"])
        for x in actions { a.applied(x, .failed, sentAt: .seconds(4)) }
        #expect(a.hold("d1", now: .seconds(13)) != nil)
        #expect(a.hold("d1", now: .seconds(14)) == nil, "still acting after the renew deadline")
        #expect(Duration.seconds(14) < Self.lease, "the deadline must come before another replica may take the lease")
    }

    @Test func aReplicaPausedPastItsLeaseLearnsItLostItAndHoldsNothing() {
        var table = Table()
        var a = Self.joined(Self.replica("a"), &table), b = Self.replica("b")
        Self.round(&a, &table, now: .zero, deployments: ["d1"])
        // b has never seen a renew; a is stopped (SIGSTOP). b waits a lease, then takes it.
        for t in stride(from: 0, through: 24, by: 4) { Self.round(&b, &table, now: .seconds(t), deployments: ["d1"]) }
        #expect(b.owned(now: .seconds(24)) == ["d1"])
        #expect(table.leases["d1"]?.epoch == 2)
        // a resumes: nothing may start, and its renewal meets b's version.
        #expect(a.hold("d1", now: .seconds(25)) == nil)
        Self.round(&a, &table, now: .seconds(25), deployments: ["d1"])
        #expect(a.held.isEmpty && a.losses == 1)
        #expect(table.leases["d1"]?.owner == "b")
    }

    @Test func aShutdownReleasesItsLeasesSoAnotherReplicaTakesThemAtOnce() {
        var table = Table()
        var a = Self.replica("a"), b = Self.replica("b")
        for t in [0, 4] {
            Self.round(&a, &table, now: .seconds(t), deployments: deployments)
            Self.round(&b, &table, now: .seconds(t), deployments: deployments)
        }
        let aHad = a.owned(now: .seconds(4))
        let busy: Set<String> = [aHad.sorted()[0]]
        Self.round(&a, &table, now: .seconds(5), deployments: deployments, busy: busy, shuttingDown: true)
        #expect(a.held == busy, "a kept or dropped the wrong leases")
        #expect(table.replicas["a"] != nil, "a stopped renewing the lease its work still runs under")
        // Released leases are free: they move in b's next round, all but the busy one.
        Self.round(&b, &table, now: .seconds(6), deployments: deployments)
        #expect(b.owned(now: .seconds(6)) == deployments.subtracting(busy))
        Self.round(&a, &table, now: .seconds(7), deployments: deployments, shuttingDown: true)
        #expect(a.held.isEmpty)
        #expect(table.replicas["a"] == nil, "a leaves its heartbeat behind")
    }

    @Test func aNewReplicaGetsItsShareFromTheOthersWithoutWaitingForALease() {
        var table = Table()
        var a = Self.replica("a"), b = Self.replica("b")
        for t in [0, 4] { Self.round(&a, &table, now: .seconds(t), deployments: deployments) }
        #expect(a.owned(now: .seconds(4)).count == 30)
        for t in stride(from: 8, through: 20, by: 4) {
            Self.round(&b, &table, now: .seconds(t), deployments: deployments)
            Self.round(&a, &table, now: .seconds(t), deployments: deployments)
        }
        #expect(a.owned(now: .seconds(20)).count == 15 && b.owned(now: .seconds(20)).count == 15)
        #expect(a.owned(now: .seconds(20)).isDisjoint(with: b.owned(now: .seconds(20))))
    }

    @Test func noCallStartsUnderALeaseWhileItsReleaseIsBeingWritten() {
        var table = Table()
        var a = Self.replica("a"), b = Self.replica("b")
        for t in [0, 4] { Self.round(&a, &table, now: .seconds(t), deployments: deployments) }
        Self.round(&b, &table, now: .seconds(8), deployments: deployments)
        // a decides to hand b its share; until those writes land, a job a started after reading
        // `busy` must already be refused, or a and b would both change the deployment.
        let actions = a.round(now: .seconds(12), replicas: Array(table.replicas.values), leases: Array(table.leases.values),
                              deployments: deployments)
        let released = Set(actions.compactMap { if case .release(let r, _) = $0 { r.deployment } else { nil } })
        #expect(released.count == 15)
        for d in released { #expect(a.hold(d, now: .seconds(12)) == nil, "\(d)") }
        #expect(a.owned(now: .seconds(12)) == deployments.subtracting(released))
        // A release that fails keeps the lease, still closed to new work, until a renewal reopens it.
        for action in actions { a.applied(action, .failed, sentAt: .seconds(12)) }
        #expect(released.allSatisfy { a.hold($0, now: .seconds(13)) == nil })
        Self.round(&a, &table, now: .seconds(16), deployments: deployments, busy: released)
        #expect(released.allSatisfy { a.hold($0, now: .seconds(16)) != nil })
    }

    @Test func everyChangeOfOwnerIncrementsTheEpoch() {
        var table = Table()
        var a = Self.joined(Self.replica("a"), &table)
        Self.round(&a, &table, now: .zero, deployments: ["d1"])
        #expect(table.leases["d1"]?.epoch == 1)
        var b = Self.joined(Self.replica("b"), &table, at: .seconds(5))
        Self.round(&a, &table, now: .seconds(4), deployments: ["d1"], shuttingDown: true)
        Self.round(&b, &table, now: .seconds(5), deployments: ["d1"])
        #expect(table.leases["d1"]?.owner == "b" && table.leases["d1"]?.epoch == 2)
        #expect(b.hold("d1", now: .seconds(5))?.epoch == 2)
    }

    // MARK: records that claim more than this replica allows

    static let ninetyDays = 90 * 24 * 3600 * 1000

    @Test func aLeaseClaimingAHugeDurationHeldByASilentOwnerIsTakenAfterThisReplicasOwnLease() {
        var table = Table()
        table.leases["d1"] = LeaseRecord(deployment: "d1", owner: "ghost", version: "forged", epoch: 7, durationMs: Self.ninetyDays)
        var b = Self.replica("b")
        var taken: Duration?
        for t in stride(from: 0, through: 40, by: 4) {
            Self.round(&b, &table, now: .seconds(t), deployments: ["d1"])
            if taken == nil, b.owned(now: .seconds(t)) == ["d1"] { taken = .seconds(t) }
            if t < 20 { #expect(b.owned(now: .seconds(t)).isEmpty, "taken at \(t)s, before this replica's lease had passed") }
            if (8..<20).contains(t) {
                #expect(b.unowned["d1"] == .notRenewing(owner: "ghost", unchanged: .seconds(t)), "not named unowned at \(t)s")
            }
        }
        #expect(taken != nil && taken! <= Self.lease + .seconds(4), "taken at \(String(describing: taken))")
        #expect(table.leases["d1"]?.owner == "b" && table.leases["d1"]?.epoch == 8)
        #expect(b.unowned.isEmpty, "still named unowned once taken: \(b.unowned)")
    }

    @Test func aReplicaStartedWithAHugeDurationThatDiesLosesItsDeploymentsAfterTheOthersOwnLease() {
        var table = Table()
        var a = Self.joined(LeaseCoordinator(settings: .init(replica: "a", duration: .seconds(90 * 24 * 3600))), &table)
        #expect(a.settings.duration == LeaseCoordinator.maximumDuration)
        #expect(a.settings.renewDeadline < a.settings.duration)
        var b = Self.joined(Self.replica("b"), &table)
        for t in [0, 4] {
            Self.round(&a, &table, now: .seconds(t), deployments: deployments)
            Self.round(&b, &table, now: .seconds(t), deployments: deployments)
        }
        let aHad = a.owned(now: .seconds(4))
        #expect(aHad.count == 15)
        // a dies at 4 s; its heartbeat and leases claim five minutes, b waits only its own 20 s.
        for t in stride(from: 8, through: 36, by: 4) { Self.round(&b, &table, now: .seconds(t), deployments: deployments) }
        #expect(b.owned(now: .seconds(36)) == deployments)
    }

    @Test func aLiveOwnerThatKeepsRenewingIsNeverTakenNorNamedUnowned() {
        var table = Table()
        var a = Self.replica("a"), b = Self.replica("b")
        var epochs: [String: Int] = [:]
        for t in stride(from: 0, through: 200, by: 4) {
            if t == 8 { epochs = table.leases.mapValues(\.epoch) }
            Self.round(&a, &table, now: .seconds(t), deployments: deployments)
            Self.round(&b, &table, now: .seconds(t) + .milliseconds(1500), deployments: deployments)
            if t >= 8 {
                #expect(a.unowned.isEmpty && b.unowned.isEmpty, "at \(t)s: \(a.unowned) \(b.unowned)")
                #expect(a.owned(now: .seconds(t)).count == 15 && b.owned(now: .seconds(t) + .milliseconds(1500)).count == 15)
            }
        }
        #expect(a.losses == 0 && b.losses == 0)
        #expect(table.leases.mapValues(\.epoch) == epochs, "a lease changed hands")
    }

    @Test func aLeaseNobodyTakesIsNamedUnownedAfterTwoRounds() {
        var table = Table()
        var a = Self.replica("a")
        // A live replica c heartbeats but never takes what is assigned to it.
        var beat = 0
        var named: Set<String> = []
        for t in stride(from: 0, through: 16, by: 4) {
            beat += 1
            table.replicas["c"] = ReplicaRecord(id: "c", version: "c/\(beat)", durationMs: 20_000)
            Self.round(&a, &table, now: .seconds(t), deployments: deployments)
            if t < 8 { #expect(a.unowned.isEmpty, "named too early, at \(t)s") }
            named = Set(a.unowned.keys)
        }
        #expect(named == deployments.subtracting(a.held) && named.count == 15)
        #expect(named.allSatisfy { a.unowned[$0] == .noOwner })
    }

    @Test func aReplicaWithALongerLeaseStopsStartingCallsBeforeAPeerWithAShorterOneMayTakeItsLeases() {
        var table = Table()
        var a = Self.joined(LeaseCoordinator(settings: .init(replica: "a", duration: .seconds(60))), &table)
        var b = Self.joined(Self.replica("b"), &table)
        for t in [0, 4] {
            Self.round(&a, &table, now: .seconds(t), deployments: deployments)
            Self.round(&b, &table, now: .seconds(t), deployments: deployments)
        }
        #expect(a.effectiveDuration == Self.lease && a.renewDeadline < Self.lease)
        let aHad = a.owned(now: .seconds(4))
        #expect(aHad.count == 15)
        // a stops (paused) after its round at 4 s; b takes its leases once unchanged for b's 20 s.
        for t in stride(from: 8, through: 28, by: 4) { Self.round(&b, &table, now: .seconds(t), deployments: deployments) }
        #expect(b.owned(now: .seconds(28)) == deployments)
        #expect(aHad.allSatisfy { a.hold($0, now: .seconds(4) + Self.lease) == nil }, "a would still start calls after b may take over")
    }
}
