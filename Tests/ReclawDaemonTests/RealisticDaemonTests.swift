import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawState
import ReclawTestSupport
import Testing

/// The daemon's whole life against the emulator's realistic mode (AWS's delays and refusals at a
/// twentieth of their length): no false alarm while AWS settles, drift attributed once CloudTrail
/// delivers (across a restart), and a real failure reported once. The two tests share the
/// emulator side by side: each has regions of its own.
@Suite struct RealisticDaemonTests {
    static let emulator: Emulator = try! Emulator.start(realistic: true, scale: 0.05, behaviours: [
        // Long enough that a drift check, even on a loaded machine, comes before CloudTrail has the change.
        "cloudTrailDelivery": ["seconds": 20],
        // Longer than the rest of a cold start: an edit right after one waits for the agent.
        "ssmAgentRegistration": ["seconds": 15],
    ])
    static let deadlines = TransientDeadlines().scaled(0.2)
    static let options = DaemonOptions(interval: .seconds(1), driftInterval: .seconds(3600), prune: true,
                                       // Tries close together just after CloudTrail's delivery (20 s after the change).
                                       attributionSchedule: [.seconds(2), .seconds(5), .seconds(10), .seconds(15), .seconds(19), .seconds(22),
                                                             .seconds(25), .seconds(30), .seconds(40)],
                                       backoffMin: .seconds(2))

    static func harness(_ upstream: Upstream, dir: TemporaryDirectory? = nil) throws -> DaemonHarness {
        try DaemonHarness(emulator: emulator, upstream: upstream, options: options, webhook: true, deadlines: deadlines, dir: dir)
    }

    static func failures(_ h: DaemonHarness) -> [AuditEvent] {
        h.auditLog.read().filter { $0.eventType == .reconcileFailed || $0.eventType == .actionFailed }
    }

    /// A second IAM user's keys.
    static func intruder() async throws -> (arn: String, key: String, secret: String) {
        let out = try await Command.check(["python3", "-c", """
        import boto3, sys
        iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        arn = iam.create_user(UserName=sys.argv[2])["User"]["Arn"]
        k = iam.create_access_key(UserName=sys.argv[2])["AccessKey"]
        print(arn, k["AccessKeyId"], k["SecretAccessKey"])
        """, emulator.url, uniqueName("intruder")]).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return (out[0], out[1], out[2])
    }

    /// Widens the role's `bedrock` inline policy with the intruder's keys.
    static func widenRole(_ name: String, as who: (arn: String, key: String, secret: String)) async throws {
        try await Command.check(["python3", "-c", """
        import boto3, json, sys
        iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])
        iam.put_role_policy(RoleName="reclaw-" + sys.argv[2] + "-instance", PolicyName="bedrock",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}))
        """, emulator.url, name, who.key, who.secret])
    }

    /// Opens tcp/22 to the world on the instance's security group with the intruder's keys.
    static func openSSH(_ name: String, region: String, as who: (arn: String, key: String, secret: String)) async throws {
        try await Command.check(["python3", "-c", """
        import boto3, sys
        ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[3], aws_access_key_id=sys.argv[4], aws_secret_access_key=sys.argv[5])
        sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [sys.argv[2]]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
        ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        """, emulator.url, name, region, who.key, who.secret])
    }

    /// The drift events of a deployment, in words, for a failure's message.
    static func driftEvents(_ h: DaemonHarness, _ name: String) -> [String] {
        h.auditLog.read().filter { $0.deployment == name && $0.eventType.rawValue.hasPrefix("Drift") }
            .map { "\($0.eventType.rawValue) \($0.attributionStatus ?? "-"): \($0.message ?? "")" }
    }

    static func attributed(_ h: DaemonHarness, _ name: String) -> AuditEvent? {
        h.events(.driftAttributed).first { $0.deployment == name && $0.attributionStatus == "attributed" }
    }

    /// How the drift was first reported: `pending` when CloudTrail had not delivered it yet.
    static func firstReport(_ h: DaemonHarness, _ name: String) -> String? {
        h.auditLog.read().first { $0.deployment == name && [.driftCorrected, .driftDetected].contains($0.eventType) }?.attributionStatus
    }

    @Test func aWholeLifeWaitsOutEveryTransientWithoutAFalseAlarmAndAttributesDriftAcrossARestart() async throws {
        let upstream = try Upstream()
        let names = (0..<3).map { _ in uniqueName("life") }
        let regions = ["us-east-2", "us-east-2", "eu-north-1"]
        try upstream.commit(Dictionary(uniqueKeysWithValues: zip(names, regions).map { ("\($0).yaml", DaemonHarness.spec($0, region: $1)) }))
        let h = try Self.harness(upstream)
        let who = try await Self.intruder()
        try await h.running {
            // A cold start of three deployments in two regions: no failure, no alert, one of each resource.
            #expect(await eventually(.seconds(240)) { names.allSatisfy { h.status($0)?.holds(.ready) == true } }, "\(names.map { h.status($0)?.conditions ?? [] })")
            #expect(Self.failures(h).isEmpty, "\(Self.failures(h).map { $0.message ?? "" })")
            #expect(try await h.alerts().isEmpty)
            for (name, region) in zip(names, regions) {
                let counts = try await h.emulator.resourceCounts(name, region: region)
                let made = try #require(h.status(name)).resourceIDs
                #expect(counts == made.mapValues { _ in 1 }, "\(name): \(counts)")
            }

            // An edit to a just-created instance: applied in place once its SSM agent has registered.
            let edit = try upstream.commit(["\(names[0]).yaml": DaemonHarness.spec(names[0], region: regions[0], version: "2026.3.0")])
            h.daemon.requestFetch()
            #expect(await eventually(.seconds(120)) { h.status(names[0])?.lastAppliedRevision == edit && h.status(names[0])?.holds(.ready) == true })
            let sends = try await h.emulator.requests(service: "ssm", operation: "SendCommand", region: regions[0])
            #expect(sends.last?["outcome"] as? String == "ok")

            // Drift on a security group, by another identity; the daemon stops before CloudTrail has delivered it.
            try await Self.openSSH(names[2], region: regions[2], as: who)
            #expect(await h.daemon.driftPass().map(\.deployment) == [names[2]])
            #expect(Self.firstReport(h, names[2]) == "pending", "CloudTrail had delivered already: the test proves nothing")
        }
        #expect(Self.attributed(h, names[2]) == nil)
        #expect(try AttributionStore(stateDirectory: h.dir.file("state")).load(names[2]).count == 1)

        // A new daemon on the same state directory finds the pending attribution and completes it.
        // Meanwhile (both waits for CloudTrail at once), drift on the role by the same identity:
        // corrected, and attributed by this daemon once CloudTrail delivers.
        let again = try Self.harness(upstream, dir: h.dir)
        try await again.running {
            #expect(await eventually(.seconds(60)) { again.daemon.revision != nil }, "the new daemon has not read the repository")
            try await Self.widenRole(names[1], as: who)
            #expect(await again.daemon.driftPass().map(\.deployment) == [names[1]])
            #expect(Self.firstReport(again, names[1]) == "pending", "CloudTrail had delivered already: the test proves nothing")
            #expect(await eventually(.seconds(60)) { Self.attributed(again, names[2]) != nil }, "\(Self.driftEvents(again, names[2]))")
            let group = try #require(Self.attributed(again, names[2])?.attribution?.first)
            #expect(group.userIdentityArn == who.arn && group.eventName == "AuthorizeSecurityGroupIngress")
            #expect(await eventually(.seconds(60)) { Self.attributed(again, names[1]) != nil }, "\(Self.driftEvents(again, names[1]))")
            let role = try #require(Self.attributed(again, names[1])?.attribution?.first)
            #expect(role.userIdentityArn == who.arn && role.eventName == "PutRolePolicy")

            // Destroy: the spec leaves the repository and the deployment is pruned, endpoints and all.
            try upstream.commit(["\(names[0]).yaml": nil])
            again.daemon.requestFetch()
            #expect(await eventually(.seconds(120)) { again.status(names[0]) == nil })
            #expect(try await again.emulator.resourceCounts(names[0], region: regions[0]).isEmpty)
        }
        #expect(Self.failures(again).isEmpty, "\(Self.failures(again).map { $0.message ?? "" })")
        let alerts = try await h.alerts() + again.alerts()
        #expect(Set(alerts.compactMap { $0["eventType"] as? String }).isSubset(of: ["DriftCorrected", "DriftDetected", "DriftAttributed"]), "\(alerts)")
    }

    @Test func aRealFailureIsReportedOnceWithItsCodeAndRequestID() async throws {
        let upstream = try Upstream()
        let name = uniqueName("fails")
        let region = "ca-central-1"
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region)])
        let h = try Self.harness(upstream)
        try await h.running {
            #expect(await eventually(.seconds(180)) { h.status(name)?.holds(.ready) == true })
            try await Self.emulator.failNextCommands(.failed, stderr: "npm ERR! 404 openclaw@2026.9.9", region: region)
            let edit = try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region, version: "2026.9.9")])
            h.daemon.requestFetch()
            #expect(await eventually(.seconds(120)) { !h.events(.reconcileFailed).isEmpty })
            // The next attempt, after a backoff, converges (the failure was queued for one command only).
            #expect(await eventually(.seconds(120)) { h.status(name)?.lastAppliedRevision == edit })
        }
        let failed = h.events(.reconcileFailed)
        #expect(failed.count == 1, "\(failed.map { $0.message ?? "" })")
        #expect(failed.first?.errorCode == "ConvergeFailed" && failed.first?.requestID != nil)
        #expect(failed.first?.errorMessage?.contains("npm ERR! 404") == true)
        let alerts = try await h.alerts()
        #expect(alerts.filter { $0["eventType"] as? String == "ReconcileFailed" }.count == 1, "\(alerts)")
    }
}
