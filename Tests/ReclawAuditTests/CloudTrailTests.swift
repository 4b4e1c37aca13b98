import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawEngine
import ReclawProviderAWS
import ReclawSpec
import ReclawState
import ReclawTestSupport
import Testing

/// The audit log joined with the emulator's CloudTrail: every call found.
@Suite struct CloudTrailTests {
    struct Setup {
        let emulator: Emulator
        let dir = TemporaryDirectory("reclaw-audit")
        let log: AuditLog
        let client: AWSClient
        let reconciler: Reconciler

        /// With `deadlines`, transients are waited out as reclaw does on AWS (the realistic mode's tests).
        init(emulator: Emulator = .shared, deadlines: TransientDeadlines? = nil) {
            self.emulator = emulator
            var logger = Logger(label: "test.audit")
            logger.logLevel = .warning
            log = AuditLog(path: dir.file("audit.log"))
            let auditor = Auditor(log: log, logger: logger, includeReads: false)
            client = emulator.client(observer: auditor, logger: logger, deadlines: deadlines)
            reconciler = Reconciler(client: client, state: StateStore(directory: dir.file("state")), auditor: auditor, logger: logger,
                                    waiter: deadlines.map { Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), deadlines: $0) })
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

    @Test func everyMutatingCallOfAnApplyIsMatchedByRequestID() async throws {
        let s = Setup()
        let start = Date().addingTimeInterval(-5)
        try await s.apply(Self.spec("eu-west-2"))
        let events = s.log.read()
        let calls = events.filter { $0.eventType == .awsApiCall }
        #expect(calls.count >= 25)
        #expect(calls.allSatisfy { $0.requestID != nil && $0.userAgent?.hasPrefix("reclaw/0.1.0 (deployment/") == true })
        let report = try await CloudTrailCorrelator(client: s.client).correlate(events, since: start)
        #expect(report.entries.count == calls.count)
        #expect(report.count(.matched) == calls.count, "\(report.entries.filter { $0.status != .matched }.map { "\($0.event.eventName ?? "") \($0.status)" })")
        // Each call is shown with the resource it acted on: the one a create made, not the first id
        // of its request (RunInstances names an AMI, a subnet and groups before its instance).
        let acted = Dictionary(report.entries.map { ($0.event.eventName ?? "", $0.resource?.name ?? "-") }) { a, _ in a }
        #expect(acted["RunInstances"]?.hasPrefix("i-") == true, "\(acted)")
        #expect(acted["CreateVpcEndpoint"]?.hasPrefix("vpce-") == true, "\(acted)")
        #expect(acted["CreateVpc"]?.hasPrefix("vpc-") == true && acted["CreateSubnet"]?.hasPrefix("subnet-") == true, "\(acted)")
        #expect(acted["CreateSecurityGroup"]?.hasPrefix("sg-") == true && acted["AuthorizeSecurityGroupIngress"]?.hasPrefix("sg-") == true, "\(acted)")
        #expect(acted["CreateRole"]?.hasPrefix("reclaw-") == true && acted["PutParameter"]?.hasPrefix("/openclaw/") == true, "\(acted)")
        #expect(report.summary == ["total": calls.count, "matched": calls.count, "matchedByResource": 0, "pending": 0, "missing": 0])
    }

    @Test func callsCloudTrailHasNotDeliveredArePendingThenMissing() async throws {
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        let s = Setup(emulator: emulator)
        try await emulator.setCloudTrailDelay(seconds: 3600)
        let start = Date().addingTimeInterval(-5)
        let ssm = SSMClient(client: s.client, region: "us-east-1", context: AWSCallContext(deployment: "late"))
        _ = try await ssm.putParameter(name: "/openclaw/late/model", value: "m", type: "String", overwrite: false, tags: [:])
        let pending = try await CloudTrailCorrelator(client: s.client).correlate(s.log.read(), since: start)
        #expect(pending.count(.pending) == 1 && pending.count(.matched) == 0)
        let missing = try await CloudTrailCorrelator(client: s.client, deliveryWindow: 0).correlate(s.log.read(), since: start)
        #expect(missing.count(.missing) == 1)
    }
}
