import Foundation
import ReclawLease
import Testing

/// One heartbeat per replica renews every lease it holds: the table's writes depend on the number
/// of replicas, not of deployments, and a replica's leases are taken only after its heartbeat was
/// marked expired, which stops it renewing anything.
@Suite struct HeartbeatLeaseTests {
    typealias Table = LeaseCoordinatorTests.Table
    static let lease = LeaseCoordinatorTests.lease

    static func writes(_ actions: [LeaseCoordinator.Action]) -> (heartbeats: Int, leases: Int, expiries: Int) {
        var out = (heartbeats: 0, leases: 0, expiries: 0)
        for a in actions {
            switch a {
            case .heartbeat, .retire: out.heartbeats += 1
            case .expire: out.expiries += 1
            case .acquire, .renew, .release: out.leases += 1
            }
        }
        return out
    }

    /// Rounds of every replica every 4 s from `from` through `through`; the writes of each round.
    static func run(_ replicas: inout [LeaseCoordinator], _ table: inout Table, from: Int, through: Int, deployments: Set<String>)
        -> [[LeaseCoordinator.Action]] {
        var rounds: [[LeaseCoordinator.Action]] = []
        for t in stride(from: from, through: through, by: 4) {
            for i in replicas.indices {
                let actions = replicas[i].round(now: .seconds(t), replicas: Array(table.replicas.values), leases: Array(table.leases.values),
                                                deployments: deployments)
                for a in actions { replicas[i].applied(a, table.apply(a), sentAt: .seconds(t)) }
                rounds.append(actions)
            }
        }
        return rounds
    }

    @Test("at steady state each replica writes one heartbeat a round, for 1000 deployments as for 10")
    func steadyStateWritesDependOnReplicasOnly() {
        for n in [10, 1000] {
            let deployments = Set((0..<n).map { "d\($0)" })
            var table = Table()
            var replicas = ["r1", "r2", "r3"].map(LeaseCoordinatorTests.replica)
            _ = Self.run(&replicas, &table, from: 0, through: 20, deployments: deployments)
            let settled = replicas.map { $0.owned(now: .seconds(20)).count }.reduce(0, +)
            #expect(settled == n)
            let steady = Self.run(&replicas, &table, from: 24, through: 200, deployments: deployments)
            let counted = steady.map(Self.writes)
            let heartbeats = counted.map(\.heartbeats).reduce(0, +)
            let others = counted.map { $0.leases + $0.expiries }.reduce(0, +)
            #expect(heartbeats == steady.count && others == 0, "\(n) deployments: \(heartbeats) heartbeats, \(others) other writes")
            // Renewed by heartbeats alone: every lease still held with time left, at the same epoch.
            let held = replicas.map { $0.owned(now: .seconds(200)).count }.reduce(0, +)
            #expect(held == n)
            #expect(table.leases.values.allSatisfy { $0.epoch == 1 })
        }
    }

    @Test("a silent replica's heartbeat is marked expired before any of its leases is taken")
    func expiryComesBeforeTakeover() {
        let deployments = Set((0..<6).map { "d\($0)" })
        var table = Table()
        var a = LeaseCoordinatorTests.replica("a"), b = LeaseCoordinatorTests.replica("b")
        for t in [0, 4, 8] {
            LeaseCoordinatorTests.round(&a, &table, now: .seconds(t), deployments: deployments)
            LeaseCoordinatorTests.round(&b, &table, now: .seconds(t), deployments: deployments)
        }
        let aHad = a.owned(now: .seconds(8))
        #expect(aHad.count == 3)
        // a stops after 8 s; b last saw a's heartbeat change at 8 s.
        var expiredAt: Int?, takenAt: Int?
        for t in stride(from: 12, through: 40, by: 4) {
            let actions = b.round(now: .seconds(t), replicas: Array(table.replicas.values), leases: Array(table.leases.values),
                                  deployments: deployments)
            if actions.contains(where: { if case .expire(let r, _) = $0 { r.id == "a" } else { false } }) { expiredAt = expiredAt ?? t }
            let taking = actions.contains { if case .acquire(let r, _) = $0 { aHad.contains(r.deployment) } else { false } }
            if taking {
                takenAt = takenAt ?? t
                #expect(table.replicas["a"]?.expired == true, "a lease of a taken at \(t)s while its heartbeat was not marked expired")
            }
            for x in actions { b.applied(x, table.apply(x), sentAt: .seconds(t)) }
        }
        #expect(expiredAt == 28, "marked at \(String(describing: expiredAt))s, a lease after 8 s")
        #expect(takenAt == 32, "taken at \(String(describing: takenAt))s")
        #expect(b.owned(now: .seconds(40)) == deployments)
        // a resumes: its heartbeat meets the mark, so it holds nothing and rejoins as a new member.
        LeaseCoordinatorTests.round(&a, &table, now: .seconds(41), deployments: deployments)
        #expect(a.held.isEmpty && a.owned(now: .seconds(41)).isEmpty)
        #expect(a.joinsAt == nil, "a kept its old membership")
        var both = [a, b]
        _ = Self.run(&both, &table, from: 44, through: 80, deployments: deployments)
        #expect(both.map { $0.owned(now: .seconds(80)).count } == [3, 3])
    }

    @Test("a heartbeat whose answer was lost but which landed does not cost the replica its leases")
    func aLostHeartbeatAnswerIsNotALoss() {
        var table = Table()
        var a = LeaseCoordinatorTests.joined(LeaseCoordinatorTests.replica("a"), &table)
        LeaseCoordinatorTests.round(&a, &table, now: .zero, deployments: ["d1"])
        #expect(a.owned(now: .zero) == ["d1"])
        // The heartbeat reaches the table, its answer does not.
        let actions = a.round(now: .seconds(4), replicas: Array(table.replicas.values), leases: Array(table.leases.values), deployments: ["d1"])
        for x in actions { _ = table.apply(x); a.applied(x, .failed, sentAt: .seconds(4)) }
        LeaseCoordinatorTests.round(&a, &table, now: .seconds(8), deployments: ["d1"])
        #expect(a.losses == 0 && a.owned(now: .seconds(8)) == ["d1"])
        #expect(a.hold("d1", now: .seconds(8) + a.renewDeadline - .milliseconds(1)) != nil, "the heartbeat at 8 s did not renew the lease")
    }

    @Test("while a replica of an older lease scheme is live, this replica hands over and holds nothing")
    func anOlderSchemePeerStopsThisReplica() {
        let deployments = Set((0..<4).map { "d\($0)" })
        var table = Table()
        var a = LeaseCoordinatorTests.joined(LeaseCoordinatorTests.replica("a"), &table)
        LeaseCoordinatorTests.round(&a, &table, now: .zero, deployments: deployments)
        #expect(a.owned(now: .zero) == deployments)
        table.replicas["old"] = ReplicaRecord(id: "old", version: "old/1", durationMs: 20_000, scheme: 1)
        LeaseCoordinatorTests.round(&a, &table, now: .seconds(4), deployments: deployments)
        #expect(a.olderPeers == ["old"])
        #expect(a.owned(now: .seconds(4)).isEmpty && a.held.isEmpty)
        #expect(table.leases.values.allSatisfy { $0.isReleased }, "leases left named after a")
        // Gone (its heartbeat stands still for a lease): a takes its share again.
        for t in stride(from: 8, through: 32, by: 4) { LeaseCoordinatorTests.round(&a, &table, now: .seconds(t), deployments: deployments) }
        #expect(a.olderPeers.isEmpty && a.owned(now: .seconds(32)) == deployments)
    }

    @Test("a lease naming a live replica that does not hold it is let go by that replica and taken by its assignee")
    func aLeaseNamingALiveReplicaThatDoesNotHoldItMoves() {
        let deployments = Set((0..<6).map { "d\($0)" })
        var table = Table()
        var replicas = ["a", "b"].map(LeaseCoordinatorTests.replica)
        _ = Self.run(&replicas, &table, from: 0, through: 12, deployments: deployments)
        let bHeld = replicas[1].owned(now: .seconds(12))
        let moved = bHeld.sorted()[0]
        // Written by hand: one of b's leases now names a, which never took it.
        table.leases[moved]?.owner = "a"
        table.leases[moved]?.version = "forged"
        _ = Self.run(&replicas, &table, from: 16, through: 28, deployments: deployments)
        #expect(replicas[1].owned(now: .seconds(28)).contains(moved), "the lease stayed with a replica that does not work on it")
        #expect(!replicas[0].owned(now: .seconds(28)).contains(moved))
        #expect(table.leases[moved]?.owner == "b")
    }
}
