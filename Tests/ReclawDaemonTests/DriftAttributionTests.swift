import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawProviderAWS
import ReclawSpec
import ReclawState
import ReclawTestSupport
import Testing

/// Drift found by the daemon's checker, attributed through the emulator's CloudTrail to whoever made it.
@Suite struct DriftAttributionTests {
    struct Setup {
        let emulator: Emulator
        let dir = TemporaryDirectory("reclaw-attribution")
        let log: AuditLog
        let reconciler: Reconciler

        init(emulator: Emulator = .shared) {
            self.emulator = emulator
            var logger = Logger(label: "test.attribution")
            logger.logLevel = .warning
            log = AuditLog(path: dir.file("audit.log"))
            let auditor = Auditor(log: log, logger: logger, includeReads: false)
            reconciler = Reconciler(client: emulator.client(observer: auditor, logger: logger), state: StateStore(directory: dir.file("state")),
                                    auditor: auditor, logger: logger)
        }

        func apply(_ spec: DeploymentSpec) async throws {
            let planned = try await reconciler.plan([ReconcileTarget(spec: spec, revision: "r1")])[0].get()
            let result = try await reconciler.apply(planned)
            #expect(result.converged)
        }
    }

    static func spec(_ region: String) -> DeploymentSpec {
        DeploymentSpec(name: uniqueName("audit"), region: region, network: .init(region: region), instance: .init(), openclaw: .init(version: "2026.2.3"))
    }

    /// A second IAM user, "mallory", with keys of her own.
    static func mallory(_ emulator: Emulator) async throws -> (id: String, secret: String, arn: String) {
        let name = uniqueName("mallory")
        let out = try await Command.check(["python3", "-c", """
        import boto3, sys
        iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        u = iam.create_user(UserName=sys.argv[2])["User"]
        k = iam.create_access_key(UserName=sys.argv[2])["AccessKey"]
        print(k["AccessKeyId"], k["SecretAccessKey"], u["Arn"])
        """, emulator.url, name]).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return (out[0], out[1], out[2])
    }

    /// Opens tcp/22 on `group` with `key`, sending `userAgent` instead of boto3's when given.
    static func openSSH(_ emulator: Emulator, group: String, region: String, key: (id: String, secret: String, arn: String),
                        userAgent: String = "") async throws {
        try await Command.check(["python3", "-c", """
        import boto3, sys
        from botocore.config import Config
        ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[4], aws_secret_access_key=sys.argv[5],
                           config=Config(user_agent=sys.argv[6]) if sys.argv[6] else None)
        ec2.authorize_security_group_ingress(GroupId=sys.argv[3], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        """, emulator.url, region, group, key.id, key.secret, userAgent])
    }

    /// Makes a group of the key's own and tags it with `mention` (another group's id) as a value.
    static func tagMentioning(_ emulator: Emulator, mention: String, region: String, key: (id: String, secret: String, arn: String)) async throws {
        try await Command.check(["python3", "-c", """
        import boto3, sys
        ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[4], aws_secret_access_key=sys.argv[5])
        own = ec2.create_security_group(GroupName="decoy-" + sys.argv[4], Description="decoy")["GroupId"]
        ec2.create_tags(Resources=[own], Tags=[{"Key": "note", "Value": sys.argv[3]}])
        """, emulator.url, region, mention, key.id, key.secret])
    }

    @Test func aRuleAddedOutOfBandIsAttributedToTheOtherKeyAndUser() async throws {
        let s = Setup()
        let spec = Self.spec("eu-west-3")
        try await s.apply(spec)
        let status = try #require(try s.reconciler.state.load(spec.name))
        let group = try #require(status.resourceIDs["instance-sg"])
        let mallory = try await Self.mallory(s.emulator)
        try await Self.openSSH(s.emulator, group: group, region: spec.region, key: mallory)
        let log = s.log
        let checker = DriftChecker(reconciler: s.reconciler, ownRequestIDs: { log.requestIDs() })
        let finding = try #require(try await checker.check([status]).first?.get())
        #expect(finding.items.map { "\($0.key) \($0.attribute)" } == ["instance-sg ingress"])
        #expect(finding.attributionStatus == "attributed")
        let who = try #require(finding.attribution.first)
        #expect(finding.attribution.count == 1)
        #expect(who.eventName == "AuthorizeSecurityGroupIngress")
        #expect(who.userIdentityArn == mallory.arn && who.accessKeyId == mallory.id)
        #expect(!who.cloudTrailEventID.isEmpty && who.sourceIPAddress == "127.0.0.1")
        let event = DriftChecker.event(finding, corrected: false)
        #expect(event.eventType == .driftDetected && event.attribution == [who])
        #expect(event.message?.contains(mallory.arn) == true)
        #expect(event.diff?["instance-sg.ingress"]?["resourceID"] == .string(group))
    }

    @Test func aDelayedCloudTrailLeavesTheAttributionPendingUntilTheRecordArrives() async throws {
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        let s = Setup(emulator: emulator)
        let spec = Self.spec("ap-south-1")
        try await s.apply(spec)
        let status = try #require(try s.reconciler.state.load(spec.name))
        let mallory = try await Self.mallory(emulator)
        try await emulator.setCloudTrailDelay(seconds: 3600)
        try await Self.openSSH(emulator, group: status.resourceIDs["instance-sg"]!, region: spec.region, key: mallory)
        let log = s.log
        let checker = DriftChecker(reconciler: s.reconciler, ownRequestIDs: { log.requestIDs() })
        var finding = try #require(try await checker.check([status]).first?.get())
        #expect(finding.attributionStatus == "pending" && finding.attribution.isEmpty)
        #expect(DriftChecker.event(finding, corrected: false).message?.contains("CloudTrail has not delivered the change yet") == true)
        try await emulator.setCloudTrailDelay(seconds: 0)
        await checker.attribute(&finding, since: status.lastInSyncAt!)
        #expect(finding.attributionStatus == "attributed" && finding.attribution.first?.accessKeyId == mallory.id)
    }

    @Test func aChangeSentWithReclawsUserAgentIsAttributedToItsSender() async throws {
        let s = Setup()
        let spec = Self.spec("ca-central-1")
        try await s.apply(spec)
        let status = try #require(try s.reconciler.state.load(spec.name))
        let mallory = try await Self.mallory(s.emulator)
        try await Self.openSSH(s.emulator, group: status.resourceIDs["instance-sg"]!, region: spec.region, key: mallory,
                               userAgent: "reclaw/0.1.0 (deployment/\(spec.name); plan/forged) replica/x")
        let log = s.log
        let finding = try #require(try await DriftChecker(reconciler: s.reconciler, ownRequestIDs: { log.requestIDs() }).check([status]).first?.get())
        #expect(finding.attributionStatus == "attributed")
        #expect(finding.attribution.map(\.userIdentityArn) == [mallory.arn])
    }

    @Test func aCreateTagsThatOnlyMentionsTheGroupIsNotTheAuthorOfItsIngress() async throws {
        let s = Setup()
        let spec = Self.spec("eu-north-1")
        try await s.apply(spec)
        let status = try #require(try s.reconciler.state.load(spec.name))
        let group = try #require(status.resourceIDs["instance-sg"])
        let (eve, mallory) = (try await Self.mallory(s.emulator), try await Self.mallory(s.emulator))
        try await Self.tagMentioning(s.emulator, mention: group, region: spec.region, key: eve)
        try await Self.openSSH(s.emulator, group: group, region: spec.region, key: mallory)
        let log = s.log
        let finding = try #require(try await DriftChecker(reconciler: s.reconciler, ownRequestIDs: { log.requestIDs() }).check([status]).first?.get())
        #expect(finding.attribution.map(\.userIdentityArn) == [mallory.arn], "the decoy was \(eve.arn)")
        #expect(finding.attribution.map(\.eventName) == ["AuthorizeSecurityGroupIngress"])
    }
}
