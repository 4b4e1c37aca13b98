import Foundation
import ReclawTestSupport
import Testing

/// A replica paused while AssumeRole waits out IAM's propagation of the deployment's role, past its
/// lease, while another replica takes the deployment over and applies it: once resumed, the role's
/// credentials arrive, and still no mutating call for that deployment goes out, because the lease
/// is checked after the credentials are ready and the request is signed.
@Suite struct AssumeRoleFenceTests {
    static let lease = 6.0

    @Test("a replica paused while AssumeRole waits out IAM's propagation sends no mutating call after it resumes")
    func pausedInAssumeRole() async throws {
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        // Only IAM's propagation: a role made now cannot be assumed for a while.
        var behaviours = Dictionary(uniqueKeysWithValues: RealisticBehaviour.allCases.map { ($0.rawValue, ["enabled": false] as [String: Any]) })
        behaviours[RealisticBehaviour.iamPropagation.rawValue] = ["enabled": true, "seconds": 12]
        try await emulator.setRealistic(true, behaviours: behaviours)
        let fleet = try ReplicaTests.Fleet(emulator: emulator, count: 1)
        defer { fleet.stopAll() }
        let created = try await Command.run([RepoPaths.reclawBinary, "lease", "create-table", fleet.table, "--region", "us-east-1"],
                                            environment: fleet.env("setup"))
        #expect(created.status == 0, "\(created.stderr)")
        let role = uniqueName("deployer")
        try await Self.createRole(role, emulator: emulator)
        let name = fleet.names[0]
        let revision = try fleet.upstream.commit(["\(name).yaml": minimalSpec(
            name, region: fleet.region, extra: "  roleArn: arn:aws:iam::123456789012:role/\(role)\n  network: {vpcEndpoints: []}")])
        try fleet.start("r1", lease: Self.lease)

        // r1 holds the lease and waits for the role: AssumeRole refused, nothing changed yet.
        #expect(try await waitUntil(60) { try await Self.refusedAssumeRoles(by: "r1", emulator).count >= 1 }, "\(fleet.log("r1").suffix(3000))")
        fleet.stop("r1", signal: SIGSTOP)
        #expect(try await fleet.mutatingCalls(by: "r1", for: [name]).isEmpty, "r1 changed AWS before it had the role")

        // r2 takes the deployment once r1's heartbeat has stood still for a lease, waits for the role, and applies it.
        try fleet.start("r2", lease: Self.lease)
        #expect(try await waitUntil(240) { try await fleet.applied(revision).contains(name) }, "\(fleet.log("r2").suffix(3000))")
        #expect(try await fleet.owners()[name] == "r2")

        // Resumed with the role assumable now, r1 finds the lease gone; a few leases later it has still sent nothing.
        fleet.stop("r1", signal: SIGCONT)
        #expect(try await waitUntil(Self.lease * 10) { fleet.log("r1").contains("LeaseNotHeld") || fleet.log("r1").contains("leases changed hands") },
                "\(fleet.log("r1").suffix(3000))")
        try await Task.sleep(for: .seconds(Self.lease * 2))
        let after = try await fleet.mutatingCalls(by: "r1", for: [name])
        #expect(after.isEmpty, "r1 changed AWS after it resumed: \(after)\n\(fleet.log("r1").suffix(3000))")
        let components = try await emulator.resourceCounts(name, region: fleet.region)
        #expect(!components.isEmpty && components.values.allSatisfy { $0 == 1 }, "\(components)")
    }

    /// AssumeRole calls of `replica` the emulator refused (the role not yet propagated).
    static func refusedAssumeRoles(by replica: String, _ emulator: Emulator) async throws -> [[String: Any]] {
        try await emulator.requests(operation: "AssumeRole", userAgent: "replica/\(replica)").filter { $0["outcome"] as? String == "refused" }
    }

    /// Makes a role the account may assume, as whoever provisions deployer roles would.
    static func createRole(_ name: String, emulator: Emulator) async throws {
        _ = try await Command.check(["python3", "-c", """
        import boto3, json, sys
        url, name = sys.argv[1:3]
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                         "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        """, emulator.url, name])
    }
}
