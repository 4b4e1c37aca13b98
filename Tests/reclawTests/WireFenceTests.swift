import Foundation
import ReclawTestSupport
import Testing

/// A replica paused in the middle of an apply, past its lease, while another takes the deployment
/// over and applies it: once resumed it sends no mutating call for that deployment, because the
/// lease is checked again after signing, right before the request reaches libcurl.
@Suite struct WireFenceTests {
    static let lease = 6.0

    @Test func aReplicaPausedMidApplySendsNoMutatingCallAfterItResumes() async throws {
        // An emulator of its own: every call of r1 is slowed down, so it is paused mid-apply.
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        let fleet = try ReplicaTests.Fleet(emulator: emulator, count: 2)
        defer { fleet.stopAll() }
        let created = try await Command.run([RepoPaths.reclawBinary, "lease", "create-table", fleet.table, "--region", "us-east-1"],
                                            environment: fleet.env("setup"))
        #expect(created.status == 0, "\(created.stderr)")
        try await emulator.injectDelay(userAgent: "replica/r1", milliseconds: 400)
        let revision = try fleet.commit()
        try fleet.start("r1", lease: Self.lease)

        // r1 is applying: some of its creates are made, most are not.
        let names = Set(fleet.names)
        #expect(try await waitUntil(120) { try await fleet.mutatingCalls(by: "r1", for: names).count >= 3 }, "\(fleet.log("r1").suffix(3000))")
        fleet.stop("r1", signal: SIGSTOP)
        let before = try await fleet.mutatingCalls(by: "r1", for: names)

        // r2 takes both deployments over once r1's records have stood still for a lease, and applies them.
        try fleet.start("r2", lease: Self.lease)
        #expect(try await waitUntil(240) { try await fleet.applied(revision) == names }, "\(fleet.log("r2").suffix(3000))")
        #expect(try await fleet.owners().values.allSatisfy { $0 == "r2" })

        // Resumed, r1 finds its lease gone at the fence; a lease later it has still sent nothing.
        fleet.stop("r1", signal: SIGCONT)
        #expect(try await waitUntil(Self.lease * 10) { fleet.log("r1").contains("LeaseNotHeld") }, "\(fleet.log("r1").suffix(3000))")
        try await Task.sleep(for: .seconds(Self.lease))
        let after = try await fleet.mutatingCalls(by: "r1", for: names)
        #expect(after == before, "r1 changed AWS after it resumed: \(after.dropFirst(before.count))\n\(fleet.log("r1").suffix(3000))")
        try await fleet.expectOneOfEach()
    }
}
