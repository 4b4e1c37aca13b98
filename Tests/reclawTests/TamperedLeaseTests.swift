import Foundation
import ReclawHTTP
import ReclawTestSupport
import Testing

/// A lease item rewritten by hand to name a replica that does not exist, with a duration of
/// months: the replica takes the deployment back within its own lease and corrects what changed
/// meanwhile, and `/healthz`, `/metrics` and `status` name the deployment while nobody owns it.
@Suite struct TamperedLeaseTests {
    static let lease = 30.0

    @Test func aLeaseForgedToAGhostOwnerIsTakenBackWithinTheReplicasOwnLeaseAndNamedUnownedMeanwhile() async throws {
        let emulator = Emulator.shared
        let fleet = try ReplicaTests.Fleet(emulator: emulator, count: 1)
        defer { fleet.stopAll() }
        let name = fleet.names[0]
        let created = try await Command.run([RepoPaths.reclawBinary, "lease", "create-table", fleet.table, "--region", "us-east-1"],
                                            environment: fleet.env("setup"))
        #expect(created.status == 0, "\(created.stderr)")
        let revision = try fleet.commit()
        let port = try MetricsAddressTests.freePort()
        let endpoint = "http://127.0.0.1:\(port)"
        try fleet.start("r1", lease: Self.lease, driftInterval: "5s", extra: ["--metrics-address", "127.0.0.1:\(port)"])
        #expect(try await waitUntil(300) { try await fleet.applied(revision).contains(name) }, "\(fleet.log("r1").suffix(3000))")
        #expect(try await fleet.owners()[name] == "r1")
        #expect(try await waitUntil(60) { try await get(endpoint, "/healthz").status == 200 })

        // The lease item now names `ghost`, with a duration of ninety days; nothing else changes.
        try await forge(fleet, deployment: name, owner: "ghost", durationMs: 90 * 24 * 3600 * 1000)
        var health = "", metrics = "", status: [String: Any] = [:]
        let named = try await waitUntil(Self.lease * 3) {
            let h = try await get(endpoint, "/healthz")
            if h.status == 503, h.text.contains(name) { health = h.text }
            let m = try await get(endpoint, "/metrics").text
            if m.contains("reclaw_deployment_unowned{deployment=\"\(name)\"} 1") { metrics = m }
            if let row = try await fleet.statuses()[name], row["unowned"] is String { status = row }
            return !health.isEmpty && !metrics.isEmpty && !status.isEmpty
        }
        #expect(named, "health: \(health)\nstatus: \(status)\n\(fleet.log("r1").suffix(3000))")
        #expect(health.contains("unowned") && health.contains("ghost"), "\(health)")
        #expect(status["owner"] as? String == "ghost" && (status["unowned"] as? String)?.contains("r1 saw that") == true, "\(status)")

        // Someone opens tcp/22 while nobody manages the deployment.
        try await emulator.openPort(22, deployment: name, region: fleet.region)
        #expect(try await waitUntil(Self.lease * 4) { try await fleet.owners()[name] == "r1" }, "\(fleet.log("r1").suffix(3000))")
        #expect(try await waitUntil(180) { try await emulator.openPorts(deployment: name, region: fleet.region).isEmpty },
                "tcp/22 is still open\n\(fleet.log("r1").suffix(3000))")
        #expect(try await waitUntil(60) { try await get(endpoint, "/healthz").status == 200 })
        #expect(try await fleet.statuses()[name]?["unowned"] == nil)
        #expect(try await get(endpoint, "/metrics").text.contains("reclaw_deployment_unowned{deployment=\"\(name)\"} 0"))
    }

    @Test func aLeaseDurationAboveFiveMinutesIsAUsageError() async throws {
        let r = try await Command.run([RepoPaths.reclawBinary, "run", "--source", "/tmp", "--lease-table", "t", "--lease-duration", "6m"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--lease-duration must be between 3s and 300s"), "\(r.stderr)")
        let days = try await Command.run([RepoPaths.reclawBinary, "run", "--source", "/tmp", "--lease-duration", "90d"])
        #expect(days.status == 64, "\(days.stderr)")
    }

    /// Rewrites the deployment's lease item by hand, as someone with write access to the table could.
    func forge(_ fleet: ReplicaTests.Fleet, deployment: String, owner: String, durationMs: Int) async throws {
        _ = try await Command.check(["python3", "-c", """
        import boto3, sys
        url, table, pk, owner, duration = sys.argv[1:6]
        db = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        db.update_item(TableName=table, Key={"pk": {"S": pk}}, UpdateExpression="SET #o = :o, version = :v, durationMs = :d",
                       ExpressionAttributeNames={"#o": "owner"},
                       ExpressionAttributeValues={":o": {"S": owner}, ":v": {"S": "forged"}, ":d": {"N": duration}})
        """, fleet.emulator.url, fleet.table, "lease#\(deployment)", owner, String(durationMs)])
    }

    func get(_ endpoint: String, _ path: String) async throws -> (status: Int, text: String) {
        let r = try await HTTPClient().send(HTTPRequest(url: endpoint + path, connectTimeout: .seconds(2), timeout: .seconds(10)))
        return (r.status, String(decoding: r.body, as: UTF8.self))
    }

}
