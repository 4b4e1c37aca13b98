import Logging
import ReclawLease
import ReclawState
import ReclawTestSupport
import ReclawTime
import Testing

/// The lease manager on a manual clock against the emulator's DynamoDB: it takes a lease only
/// once its join interval has passed on its clock, and stops allowing calls for a deployment once
/// its last renewal is older than the renew deadline, with no real time waited for either.
@Suite struct LeaseManagerClockTests {
    let emulator = Emulator.shared

    /// Counts nothing: these tests read what the manager holds, not its metrics.
    struct NoCounters: LeaseCounters {
        func leases(held: Int) {}
        func leaseAcquired() {}
        func leaseLost() {}
        func replicaActive(_ replica: String, _ active: Bool) {}
        func unowned(_ names: Set<String>) {}
    }

    func manager(clock: ManualClock, state: TemporaryDirectory) async throws -> LeaseManager {
        let table = DynamoLeaseTable(client: emulator.client(), table: uniqueName("leases"), region: "us-east-1")
        try await table.create(pollEvery: .milliseconds(100))
        var logger = Logger(label: "test.lease-clock")
        logger.logLevel = .warning
        let manager = LeaseManager(table: table, settings: LeaseCoordinator.Settings(replica: "r1", duration: .seconds(30)), clock: clock,
                                   stateDirectory: state.path, changes: StateChanges(), metrics: NoCounters(), logger: logger)
        manager.setDeployments(["alpha"])
        return manager
    }

    /// Whether the manager would let a mutating call for `deployment` go now.
    func allows(_ manager: LeaseManager, _ deployment: String) async -> Bool {
        do {
            try await manager.share(deployment)
            return true
        } catch {
            return false
        }
    }

    @Test("a replica takes a lease only after its join interval has passed on its clock")
    func joinsOnItsClock() async throws {
        let clock = ManualClock()
        let state = TemporaryDirectory("reclaw-lease-state")
        let manager = try await manager(clock: clock, state: state)
        await manager.round()
        #expect(manager.owned.isEmpty, "a lease taken before the replica announced itself for a join interval")
        clock.advance(by: manager.settings.joinInterval - .milliseconds(1))
        await manager.round()
        #expect(manager.owned.isEmpty, "a lease taken before the join interval ended")
        clock.advance(by: .milliseconds(1))
        await manager.round()
        #expect(manager.owned == ["alpha"])
        #expect(manager.epoch("alpha") == 1)
    }

    @Test("calls stop being allowed once the last renewal is older than the renew deadline, and a renewal allows them again")
    func stopsAllowingCallsAtTheRenewDeadline() async throws {
        let clock = ManualClock()
        let state = TemporaryDirectory("reclaw-lease-state")
        let manager = try await manager(clock: clock, state: state)
        await manager.round()
        clock.advance(by: manager.settings.joinInterval)
        await manager.round()
        #expect(await allows(manager, "alpha"))

        let deadline = manager.settings.renewDeadline
        clock.advance(by: deadline - .milliseconds(1))
        #expect(await allows(manager, "alpha"), "refused before the renew deadline")
        #expect(manager.epoch("alpha") == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await !allows(manager, "alpha"), "allowed at the renew deadline")
        #expect(manager.epoch("alpha") == nil)

        // Still within the lease itself, so the next round renews it.
        await manager.round()
        #expect(await allows(manager, "alpha"))
        #expect(manager.owned == ["alpha"])
    }
}
