import Foundation
import ReclawTestSupport
import Testing

/// Drift left alone under `policy.drift: alert` is a condition of its own, as Argo CD shows
/// OutOfSync: Ready stays True, Drifted says what differs, until AWS matches again.
@Suite struct DriftedConditionTests {
    @Test func driftLeftUnderAlertIsADriftedConditionUntilItIsGone() async throws {
        let emulator = Emulator.shared
        let dir = TemporaryDirectory("reclaw-drifted")
        let name = uniqueName("drifted")
        let region = "ap-southeast-2"
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        dir.write("specs/app.yaml", minimalSpec(name, region: region, extra: "  policy: {drift: alert}"))
        func once() async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary, "run", "--source", dir.file("specs"), "--once"], environment: env)
        }
        func drifted() async throws -> [String: Any]? {
            let r = try await Command.run([RepoPaths.reclawBinary, "status", "--json"], environment: env)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
            let conditions = rows.first { $0["deployment"] as? String == name }?["conditions"] as? [[String: Any]] ?? []
            return conditions.first { $0["type"] as? String == "Drifted" }
        }
        #expect(try await once().status == 2)
        try await emulator.openPort(22, deployment: name, region: region)
        #expect(try await once().status == 2, "the drift was not reported")
        let found = try #require(try await drifted())
        #expect(found["status"] as? String == "True" && found["reason"] as? String == "DriftDetected")
        #expect((found["message"] as? String)?.contains("instance-sg ingress") == true, "\(found)")

        _ = try await Command.check(["python3", "-c", """
        import boto3, sys
        ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id="x", aws_secret_access_key="x")
        sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [sys.argv[3]]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
        ec2.revoke_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        """, emulator.url, region, name])
        #expect(try await once().status == 0)
        #expect(try await drifted()?["status"] as? String == "False")
    }
}
