import Foundation
import ReclawTestSupport
import Testing

/// Three `reclaw run` replicas started at the same moment on twelve deployments: each announces
/// itself and waits a join interval before taking leases, so the first does not take them all.
@Suite struct FairShareTests {
    @Test func threeReplicasStartedTogetherEachApplyAboutAThird() async throws {
        let emulator = Emulator.shared
        let fleet = try ReplicaTests.Fleet(emulator: emulator, count: 12)
        defer { fleet.stopAll() }
        let created = try await Command.run([RepoPaths.reclawBinary, "lease", "create-table", fleet.table, "--region", "us-east-1"],
                                            environment: fleet.env("setup"))
        #expect(created.status == 0, "\(created.stderr)")
        let revision = try fleet.commit()
        for r in ["r1", "r2", "r3"] { try fleet.start(r) }

        #expect(try await waitUntil(300) { try await fleet.applied(revision).count == 12 }, "\(fleet.log("r1").suffix(3000))")
        var changed: [String: Set<String>] = [:]
        for r in ["r1", "r2", "r3"] { changed[r] = try await fleet.deploymentsChanged(by: r) }
        let counts = changed.mapValues(\.count)
        #expect(counts.values.allSatisfy { (1...6).contains($0) }, "deployments changed per replica: \(counts)")
        #expect(changed.values.reduce(Set<String>()) { $0.union($1) } == Set(fleet.names), "\(counts)")
        let doubled = Set(fleet.names.filter { n in changed.values.filter { $0.contains(n) }.count > 1 })
        #expect(doubled.isEmpty, "applied by two replicas: \(doubled.sorted())\n\(fleet.logLines(about: doubled))")
    }
}
