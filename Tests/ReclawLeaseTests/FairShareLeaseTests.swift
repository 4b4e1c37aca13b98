import Foundation
import ReclawLease
import Testing

/// How replicas share the leases at a cold start and when one joins later: each announces itself,
/// waits a join interval, then takes at most its fair share of the free leases per round.
@Suite struct FairShareLeaseTests {
    typealias Table = LeaseCoordinatorTests.Table
    static let lease = LeaseCoordinatorTests.lease
    let twelve = Set((0..<12).map { "d\($0)" })

    static func acquired(_ actions: [LeaseCoordinator.Action]) -> Set<String> {
        Set(actions.compactMap { if case .acquire(let r, _) = $0 { r.deployment } else { nil } })
    }

    /// Every replica's round at `now` from one read of the table, then every write.
    static func together(_ replicas: inout [LeaseCoordinator], _ table: inout Table, now: Duration, deployments: Set<String>) -> [Set<String>] {
        let view = table
        var taken: [Set<String>] = []
        for i in replicas.indices {
            let actions = replicas[i].round(now: now, replicas: Array(view.replicas.values), leases: Array(view.leases.values),
                                            deployments: deployments)
            taken.append(acquired(actions))
            for a in actions { replicas[i].applied(a, table.apply(a), sentAt: now) }
        }
        return taken
    }

    @Test func threeReplicasStartedTogetherEachTakeAtMostAThirdInTheirFirstRound() {
        var table = Table()
        var replicas = ["r1", "r2", "r3"].map(LeaseCoordinatorTests.replica)
        let announcing = Self.together(&replicas, &table, now: .zero, deployments: twelve)
        #expect(announcing.allSatisfy { $0.isEmpty }, "a lease taken before the replica announced itself: \(announcing)")
        #expect(Set(table.replicas.keys) == ["r1", "r2", "r3"])
        let early = Self.together(&replicas, &table, now: .seconds(2), deployments: twelve)
        #expect(early.allSatisfy { $0.isEmpty }, "a lease taken within the join interval: \(early)")
        let first = Self.together(&replicas, &table, now: .seconds(4), deployments: twelve)
        #expect(first.map(\.count) == [4, 4, 4], "\(first.map(\.count))")
        #expect(first.reduce(Set<String>()) { $0.union($1) } == twelve)
    }

    @Test func aLoneReplicaTakesEverythingAfterTheJoinInterval() {
        var table = Table()
        var a = LeaseCoordinatorTests.replica("a")
        #expect(a.settings.joinInterval == Self.lease / 5)
        for t in [0, 2] {
            LeaseCoordinatorTests.round(&a, &table, now: .seconds(t), deployments: twelve)
            #expect(a.held.isEmpty, "took a lease at \(t)s, before the join interval had passed")
        }
        LeaseCoordinatorTests.round(&a, &table, now: .seconds(4), deployments: twelve)
        #expect(a.owned(now: .seconds(4)) == twelve)
    }

    @Test func aReplicaTakesNoMoreThanItsFairShareOfTheFreeLeases() {
        let live = ["a", "b", "c"]
        let want = LeaseCoordinator.assignment(deployments: Array(twelve), replicas: live)
        #expect(LeaseCoordinator.fairShare(free: 12, of: live, holding: [:], want: want) == 4)
        // b took eight before it saw the others: a and c share the four left.
        #expect(LeaseCoordinator.fairShare(free: 4, of: live, holding: ["b": 8], want: want) == 2)
        #expect(LeaseCoordinator.fairShare(free: 12, of: ["a"], holding: [:], want: want.mapValues { _ in "a" }) == 12)
    }

    @Test func aLateJoinerGetsItsShareWithinTwoLeaseDurationsHandedOverOnlyBetweenJobs() {
        var table = Table()
        var fleet = ["a", "b", "c"].map(LeaseCoordinatorTests.replica)
        for t in [0, 4] { _ = Self.together(&fleet, &table, now: .seconds(t), deployments: twelve) }
        #expect(fleet.map { $0.owned(now: .seconds(4)).count } == [4, 4, 4])
        // a's deployments are busy (a job runs on each) until 30 s.
        let aJobs = fleet[0].held
        var d = LeaseCoordinatorTests.replica("d")
        let joined = Duration.seconds(10)
        var shared: Duration?
        for t in stride(from: 10, through: 60, by: 4) {
            let now = Duration.seconds(t)
            LeaseCoordinatorTests.round(&d, &table, now: now, deployments: twelve)
            for i in fleet.indices {
                let busy = i == 0 && t < 30 ? aJobs : []
                LeaseCoordinatorTests.round(&fleet[i], &table, now: now + .milliseconds(500 * (i + 1)), deployments: twelve, busy: busy)
                if !busy.isEmpty { #expect(fleet[i].held.isSuperset(of: busy), "a lease handed over during its job at \(t)s") }
            }
            let owned = ([d] + fleet).map { $0.owned(now: now + .seconds(2)) }
            for i in owned.indices { for j in owned.indices where i < j { #expect(owned[i].isDisjoint(with: owned[j]), "at \(t)s") } }
            if shared == nil, owned.map(\.count) == [3, 3, 3, 3] { shared = now }
        }
        #expect(shared != nil && shared! - joined <= Self.lease * 2, "shared at \(String(describing: shared))")
        #expect(shared.map { $0 >= .seconds(30) } ?? false, "a's leases moved while their jobs ran")
    }
}
