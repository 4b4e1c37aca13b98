import Foundation
import ReclawAWS
import ReclawLease
import ReclawTestSupport
import Testing

/// The lease table on the emulator's DynamoDB: conditional writes refuse a stale version, and three
/// replicas' coordinators share thirty deployments through it.
@Suite struct DynamoLeaseTableTests {
    let emulator = Emulator.shared

    func table() async throws -> DynamoLeaseTable {
        let t = DynamoLeaseTable(client: emulator.client(), table: uniqueName("leases"), region: "us-east-1")
        try await t.create(pollEvery: .milliseconds(100))
        return t
    }

    @Test func creatingTheTableTwiceIsHarmless() async throws {
        let t = try await table()
        try await t.create(pollEvery: .milliseconds(100))
        #expect(try await t.read().leases.isEmpty)
    }

    @Test func aWriteExpectingAStaleVersionIsAConflictAndChangesNothing() async throws {
        let t = try await table()
        let first = LeaseRecord(deployment: "alpha", owner: "r1", version: "r1/1", epoch: 1, durationMs: 20_000)
        #expect(await t.write(.acquire(first, expecting: nil), as: "r1") == .written)
        #expect(await t.write(.acquire(first, expecting: nil), as: "r2") == .conflict, "a second create of the same lease")
        var renewed = first
        renewed.version = "r1/2"
        #expect(await t.write(.renew(renewed, expecting: "r1/1"), as: "r1") == .written)
        var stolen = first
        stolen.owner = "r2"
        stolen.version = "r2/1"
        stolen.epoch = 2
        #expect(await t.write(.acquire(stolen, expecting: "r1/1"), as: "r2") == .conflict, "taken with a version that had moved")
        #expect(await t.write(.renew(LeaseRecord(deployment: "alpha", owner: "r2", version: "r2/2", epoch: 1, durationMs: 1), expecting: "r1/2"),
                              as: "r2") == .conflict, "renewed by a replica that does not own it")
        let stored = try await t.read().leases
        #expect(stored == [renewed])
    }

    @Test func stateWritesHoldOnlyForTheOwnerAtItsEpoch() async throws {
        let t = try await table()
        let lease = LeaseRecord(deployment: "alpha", owner: "r1", version: "r1/1", epoch: 3, durationMs: 20_000)
        #expect(await t.write(.acquire(lease, expecting: nil), as: "r1") == .written)
        try await t.putState("alpha", document: "status", text: "{\"deployment\":\"alpha\"}", owner: "r1", epoch: 3)
        await #expect(throws: AWSError.self) { try await t.putState("alpha", document: "status", text: "{}", owner: "r1", epoch: 2) }
        await #expect(throws: AWSError.self) { try await t.putState("alpha", document: "status", text: "{}", owner: "r2", epoch: 3) }
        #expect(try await t.state("alpha") == ["status": "{\"deployment\":\"alpha\"}"])
        // Renewals leave the state alone.
        var renewed = lease
        renewed.version = "r1/2"
        #expect(await t.write(.renew(renewed, expecting: "r1/1"), as: "r1") == .written)
        #expect(try await t.state("alpha")["status"] != nil)
        try await t.putState("alpha", document: "status", text: nil, owner: "r1", epoch: 3)
        #expect(try await t.state("alpha").isEmpty)
    }

    @Test func aNoteThatNobodyOwnsALeaseLandsOnlyAtTheVersionSeenAndTheOwnersNextWriteClearsIt() async throws {
        let t = try await table()
        let ghost = LeaseRecord(deployment: "alpha", owner: "ghost", version: "forged", epoch: 4, durationMs: 90 * 24 * 3600 * 1000)
        #expect(await t.write(.acquire(ghost, expecting: nil), as: "ghost") == .written)
        try await t.noteUnowned("alpha", version: "forged", note: "r1 saw that its owner ghost has not renewed its lease for 14s")
        #expect(try await t.leasesWithState().first?.lease.unownedNote == "r1 saw that its owner ghost has not renewed its lease for 14s")
        #expect(try await t.read().leases.first?.version == "forged", "the note changed the record others watch")
        await #expect(throws: AWSError.self) { try await t.noteUnowned("alpha", version: "older", note: "stale") }
        await #expect(throws: AWSError.self) { try await t.noteUnowned("beta", version: "forged", note: "no item") }
        #expect(try await t.read().leases.map(\.deployment) == ["alpha"], "a note made an item")
        let taken = LeaseRecord(deployment: "alpha", owner: "r1", version: "r1/1", epoch: 5, durationMs: 20_000)
        #expect(await t.write(.acquire(taken, expecting: "forged"), as: "r1") == .written)
        #expect(try await t.leasesWithState().first?.lease.unownedNote == nil)
    }

    @Test func threeReplicasShareThirtyDeploymentsThroughTheTable() async throws {
        let t = try await table()
        let deployments = Set((0..<30).map { "d\($0)" })
        var replicas = ["r1", "r2", "r3"].map { LeaseCoordinator(settings: .init(replica: $0, duration: .seconds(20))) }
        for step in 0..<4 {
            for i in replicas.indices {
                let now = Duration.seconds(step * 4)
                let (r, l) = try await t.read()
                for action in replicas[i].round(now: now, replicas: r, leases: l, deployments: deployments) {
                    replicas[i].applied(action, await t.write(action, as: replicas[i].settings.replica), sentAt: now)
                }
            }
        }
        let owned = replicas.map { $0.owned(now: .seconds(12)) }
        #expect(owned.map(\.count) == [10, 10, 10])
        let stored = try await t.read().leases
        #expect(stored.count == 30 && Set(stored.map(\.owner)) == ["r1", "r2", "r3"])
        for (i, r) in replicas.enumerated() {
            #expect(Set(stored.filter { $0.owner == r.settings.replica }.map(\.deployment)) == owned[i])
        }
    }

    @Test("a heartbeat goes on only from a version its replica wrote, and an expired mark stops it")
    func heartbeatsAreConditionalOnTheSession() async throws {
        let t = try await table()
        let first = ReplicaRecord(id: "r1", version: "r1/1", durationMs: 20_000)
        #expect(await t.write(.heartbeat(first, expecting: []), as: "r1") == .written, "a new session is written whatever is stored")
        let second = ReplicaRecord(id: "r1", version: "r1/3", durationMs: 20_000, enforcedMs: 20_000, leaving: true)
        #expect(await t.write(.heartbeat(second, expecting: ["r1/2", "r1/1"]), as: "r1") == .written, "either version the replica may have left")
        #expect(try await t.read().replicas == [second])
        #expect(await t.write(.expire(second, expecting: "r1/1"), as: "r2") == .conflict, "marked expired at a version that had moved")
        #expect(await t.write(.expire(second, expecting: "r1/3"), as: "r2") == .written)
        let marked = try #require(try await t.read().replicas.first)
        #expect(marked.expired && marked.version != "r1/3")
        #expect(await t.write(.heartbeat(ReplicaRecord(id: "r1", version: "r1/4", durationMs: 20_000), expecting: ["r1/3"]), as: "r1") == .conflict,
                "a heartbeat renewed a session another replica expired")
        #expect(await t.write(.heartbeat(ReplicaRecord(id: "r1", version: "r1/5", durationMs: 20_000), expecting: []), as: "r1") == .written)
        let rejoined = try #require(try await t.read().replicas.first)
        #expect(!rejoined.expired && !rejoined.leaving && rejoined.scheme == ReplicaRecord.currentScheme)
    }

    @Test("a table made before the index gets it from create-table, with the items already there listed")
    func createTableAddsTheIndexToAnOlderTable() async throws {
        let t = DynamoLeaseTable(client: emulator.client(), table: uniqueName("leases"), region: "us-east-1")
        try await t.dynamo.createTable(t.table, key: "pk")
        #expect(try await waitUntil(30) { try await t.dynamo.tableStatus(t.table) == "ACTIVE" })
        try await t.dynamo.updateItem(table: t.table, key: ["pk": ["S": "lease#alpha"]], update: "SET #o = :o, version = :v, epoch = :e",
                                      names: ["#o": "owner"], values: [":o": ["S": "r1"], ":v": ["S": "r1/1"], ":e": ["N": "3"]])
        await #expect(throws: AWSError.self) { try await t.read() }
        try await t.create(pollEvery: .milliseconds(100))
        #expect(try await t.dynamo.indexStatus(t.table, DynamoLeaseTable.index.name) == "ACTIVE")
        let leases = try await t.read().leases
        #expect(leases.map(\.deployment) == ["alpha"] && leases.first?.epoch == 3)
    }

    @Test("a round's read leaves the deployments' state documents out")
    func theRoundsReadLeavesStateOut() async throws {
        let t = try await table()
        let lease = LeaseRecord(deployment: "alpha", owner: "r1", version: "r1/1", epoch: 1, durationMs: 20_000)
        #expect(await t.write(.acquire(lease, expecting: nil), as: "r1") == .written)
        try await t.putState("alpha", document: "status", text: String(repeating: "x", count: 20_000), owner: "r1", epoch: 1)
        let items = try await t.dynamo.query(table: t.table, index: DynamoLeaseTable.index, value: "lease")
        #expect(items.count == 1 && items[0]["state.status"] == nil && items[0]["hasState"] != nil, "\(items.map { Array($0.keys) })")
    }
}
