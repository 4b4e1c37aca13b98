import Foundation
import ReclawLease
import Testing

/// Interleavings in which two replicas could both act on one deployment, each checked on plain
/// values: whenever a replica takes a lease, the one that held it may no longer start a call.
@Suite struct LeaseSafetyTests {
    typealias Table = LeaseCoordinatorTests.Table
    let deployments = Set((0..<4).map { "d\($0)" })

    static func replica(_ id: String, seconds: Int) -> LeaseCoordinator {
        LeaseCoordinator(settings: .init(replica: id, duration: .seconds(seconds)))
    }

    @Test("a replica with a shorter lease waits for the lease a paused peer enforces, not its own")
    func aShorterLeaseWaitsForTheLongerOne() {
        var table = Table()
        var a = LeaseCoordinatorTests.joined(Self.replica("a", seconds: 60), &table)
        LeaseCoordinatorTests.round(&a, &table, now: .zero, deployments: deployments)
        #expect(a.owned(now: .zero) == deployments)
        // a is paused before it ever reads b; b, with a 10 s lease, starts.
        var b = Self.replica("b", seconds: 10)
        for t in stride(from: 1, through: 80, by: 2) {
            LeaseCoordinatorTests.round(&b, &table, now: .seconds(t), deployments: deployments)
            for d in b.owned(now: .seconds(t)) {
                #expect(a.hold(d, now: .seconds(t)) == nil, "b took \(d) at \(t)s while a could still act on it")
            }
        }
        #expect(b.owned(now: .seconds(80)) == deployments)
    }

    @Test("an acquisition answered after the heartbeat met an expired mark holds nothing")
    func anAcquisitionAfterExpiryHoldsNothing() {
        var table = Table()
        var a = LeaseCoordinatorTests.joined(LeaseCoordinatorTests.replica("a"), &table)
        let actions = a.round(now: .zero, replicas: Array(table.replicas.values), leases: [], deployments: ["d1"])
        // Another replica marked a expired just before this round's writes landed.
        table.replicas["a"]?.expired = true
        table.replicas["a"]?.version = "expired"
        for x in actions { a.applied(x, table.apply(x), sentAt: .zero) }
        #expect(a.held.isEmpty && a.owned(now: .zero).isEmpty)
    }

    @Test("a new process under the same name leaves the leases naming it alone while the old one may still act")
    func aRestartUnderTheSameNameWaitsForTheOldProcess() {
        var table = Table()
        var old = LeaseCoordinatorTests.joined(LeaseCoordinatorTests.replica("a"), &table)
        LeaseCoordinatorTests.round(&old, &table, now: .zero, deployments: deployments)
        #expect(old.owned(now: .zero) == deployments)
        // The old process is paused, not dead; a new one starts under its name at 1 s.
        var new = LeaseCoordinatorTests.replica("a")
        for t in stride(from: 1, through: 40, by: 2) {
            let before = table.leases.mapValues(\.version)
            LeaseCoordinatorTests.round(&new, &table, now: .seconds(t), deployments: deployments)
            let touched = before.filter { table.leases[$0.key]?.version != $0.value }.keys
            for d in touched { #expect(old.hold(d, now: .seconds(t)) == nil, "the new process took \(d) at \(t)s while the old one could act") }
        }
        #expect(new.owned(now: .seconds(40)) == deployments)
    }

    @Test("a lease the last read shows in other hands admits no call until a read shows it back")
    func aDoubtedLeaseAdmitsNoCall() {
        var table = Table()
        var a = LeaseCoordinatorTests.joined(LeaseCoordinatorTests.replica("a"), &table)
        LeaseCoordinatorTests.round(&a, &table, now: .zero, deployments: ["d1"])
        let mine = table.leases["d1"]!
        table.leases["d1"]?.owner = ""
        table.leases["d1"]?.version = "by hand"
        LeaseCoordinatorTests.round(&a, &table, now: .seconds(4), deployments: ["d1"])
        #expect(a.hold("d1", now: .seconds(4)) == nil)
        table.leases["d1"] = mine  // the read was a moment behind: the lease is still a's
        LeaseCoordinatorTests.round(&a, &table, now: .seconds(8), deployments: ["d1"])
        #expect(a.hold("d1", now: .seconds(8)) != nil && a.losses == 0)
    }

    @Test("versions never repeat across sessions of one replica")
    func versionsCarryTheSession() {
        var t1 = Table(), t2 = Table()
        var first = LeaseCoordinatorTests.replica("a"), second = LeaseCoordinatorTests.replica("a")
        LeaseCoordinatorTests.round(&first, &t1, now: .zero, deployments: [])
        LeaseCoordinatorTests.round(&second, &t2, now: .zero, deployments: [])
        #expect(t1.replicas["a"]?.version != t2.replicas["a"]?.version)
    }
}
