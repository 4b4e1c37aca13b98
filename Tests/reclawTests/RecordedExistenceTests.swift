import Foundation
import ReclawTestSupport
import Testing

/// A recorded resource is missing only when a read by its own id or name says so: the tagging
/// API's listing lags behind what was just created, and its silence is never drift, a create or a
/// delete. Driven through the real daemon against the emulator, with the index lag on.
@Suite struct RecordedExistenceTests {
    @Test func parametersAnIncompleteListingLeavesOutAreNeitherDriftNorCreatedAgain() async throws {
        // Realistic mode with only the tagging index's lag: a parameter is listed a minute after it is made.
        let behaviours = Dictionary(uniqueKeysWithValues: RealisticBehaviour.allCases.map { b -> (String, [String: Any]) in
            (b.rawValue, b == .taggingIndexLag ? ["enabled": true, "seconds": 60] : ["enabled": false])
        })
        let emulator = try Emulator.start(realistic: true, behaviours: behaviours)
        defer { emulator.stop() }
        let dir = TemporaryDirectory("reclaw-existence")
        let name = uniqueName("listed")
        let region = "eu-west-2"
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        dir.write("specs/app.yaml", minimalSpec(name, region: region, extra: "  policy: {drift: correct}"))
        func reclaw(_ args: String...) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary] + args, environment: env)
        }

        let apply = try await reclaw("apply", "--auto-approve", dir.file("specs"))
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        let puts = try await emulator.requests(service: "ssm", operation: "PutParameter").count

        // The parameters are seconds old: the listing does not have them yet, their own store does.
        let drift = try await reclaw("drift", "--detailed-exitcode", dir.file("specs"))
        #expect(drift.status == 0, "an incomplete listing was taken for drift: \(drift.stdout)\n\(drift.stderr)")
        let run = try await reclaw("run", "--source", dir.file("specs"), "--once")
        #expect(run.status == 0, "the daemon saw changes or drift: \(run.stderr.suffix(3000))")
        #expect(try await emulator.requests(service: "ssm", operation: "PutParameter").count == puts, "a parameter that exists was made again")
        #expect(try await emulator.requests(service: "ssm", operation: "GetParameters").count > 0)

        // A parameter deleted for real is missing, by its own store's word, and is made again.
        _ = try await Command.check(["python3", "-c", """
        import boto3, sys
        boto3.client("ssm", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id="x", aws_secret_access_key="x").delete_parameter(Name=sys.argv[3])
        """, emulator.url, region, "/openclaw/\(name)/model"])
        let gone = try await reclaw("drift", "--detailed-exitcode", dir.file("specs"))
        #expect(gone.status == 2 && gone.stdout.contains("param-model"), "\(gone.stdout)")
    }
}
