import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawTestSupport
import Testing

/// Drift made by someone else: alerts on a local webhook receiver, corrections, de-duplication.
@Suite struct DriftAndAlertTests {
    static func ingress(_ h: DaemonHarness, _ name: String, region: String) async throws -> Set<EC2.Rule> {
        try await EC2Client(client: h.client, region: region).securityGroups([("tag:reclaw:deployment", [name])])
            .first { $0.tags["reclaw:component"] == "instance-sg" }?.ingress ?? []
    }

    @Test func driftMadeWithBoto3IsAlertedOnTheWebhookAndCorrected() async throws {
        let upstream = try Upstream()
        let name = uniqueName("fix")
        let region = "eu-west-1"
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region)])
        let h = try DaemonHarness(upstream: upstream, webhook: true)
        try await h.running {
            #expect(await eventually { h.status(name)?.condition(.ready)?.status == .true })
            let who = try await h.emulator.openPort(22, deployment: name, region: region)
            let findings = await h.daemon.driftPass()
            #expect(findings.map(\.deployment) == [name])
            #expect(try await Self.ingress(h, name, region: region).isEmpty, "the rule was not removed")
            #expect(await eventually(.seconds(10)) { (try? await h.alerts().contains { $0["eventType"] as? String == "DriftCorrected" }) == true })
            let alert = try #require(try await h.alerts().first { $0["eventType"] as? String == "DriftCorrected" })
            #expect(alert["deployment"] as? String == name)
            let attribution = try #require((alert["attribution"] as? [[String: Any]])?.first)
            #expect(attribution["userIdentityArn"] as? String == who.arn && attribution["accessKeyId"] as? String == who.key)
            #expect(attribution["eventName"] as? String == "AuthorizeSecurityGroupIngress")
            #expect((alert["diff"] as? [String: Any])?["instance-sg.ingress"] != nil)
        }
    }

    @Test func driftUndoneByTheNextRevisionIsRecordedAsCorrectedWithWhoMadeIt() async throws {
        let upstream = try Upstream()
        let name = uniqueName("undo")
        let region = "eu-west-1"
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region, extra: "  policy: {drift: alert}")])
        let h = try DaemonHarness(upstream: upstream)
        _ = await h.daemon.sourcePass()
        let who = try await h.emulator.openPort(8080, deployment: name, region: region)
        let revision = try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region, version: "2026.3.0", extra: "  policy: {drift: alert}")])
        let report = await h.daemon.sourcePass()
        #expect(report.applied[name]?.converged == true)
        #expect(try await Self.ingress(h, name, region: region).isEmpty, "the new revision left the hand-made rule")
        let corrected = try #require(h.events(.driftCorrected).first { $0.deployment == name })
        #expect(corrected.revision == revision)
        #expect(corrected.attribution?.first?.userIdentityArn == who.arn)
    }

    @Test func aDelayedCloudTrailGivesAPendingAttributionThenDriftAttributed() async throws {
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        let upstream = try Upstream()
        let name = uniqueName("late")
        let region = "eu-west-1"
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region, extra: "  policy: {drift: alert}")])
        let h = try DaemonHarness(emulator: emulator, upstream: upstream, webhook: true)
        _ = await h.daemon.sourcePass()
        try await h.running {
            try await emulator.setCloudTrailDelay(seconds: 3600)
            let who = try await emulator.openPort(22, deployment: name, region: region)
            _ = await h.daemon.driftPass()
            #expect(await eventually(.seconds(5)) { (try? await h.alerts().count) == 1 })
            let first = try #require(try await h.alerts().first)
            #expect(first["attributionStatus"] as? String == "pending")
            #expect((first["message"] as? String)?.contains("CloudTrail has not delivered the change yet") == true)
            await h.daemon.attributionPass()
            #expect(try await h.alerts().count == 1, "attributed before CloudTrail delivered")
            try await emulator.setCloudTrailDelay(seconds: 0)
            await h.daemon.attributionPass()
            #expect(await eventually(.seconds(5)) { (try? await h.alerts().count) == 2 })
            let attributed = try #require(try await h.alerts().last)
            #expect(attributed["eventType"] as? String == "DriftAttributed")
            #expect(((attributed["attribution"] as? [[String: Any]])?.first?["userIdentityArn"] as? String) == who.arn)
        }
        #expect(h.events(.driftAttributed).count == 1)
    }

    @Test func pruneDestroysADeploymentWhoseSpecLeftButNeverEveryDeployment() async throws {
        let upstream = try Upstream()
        let keep = uniqueName("keep"), drop = uniqueName("drop")
        let region = "ap-south-1"
        try upstream.commit(["keep.yaml": DaemonHarness.spec(keep, region: region), "drop.yaml": DaemonHarness.spec(drop, region: region)])
        let h = try DaemonHarness(upstream: upstream, options: DaemonOptions(interval: .seconds(3600), prune: true))
        #expect(await h.daemon.sourcePass().applied.count == 2)
        try upstream.commit(["drop.yaml": nil])
        let report = await h.daemon.sourcePass()
        #expect(report.pruned == [drop])
        let ec2 = EC2Client(client: h.client, region: region)
        #expect(try await ec2.vpcs([("tag:reclaw:deployment", [drop])]).isEmpty)
        #expect(try await ec2.vpcs([("tag:reclaw:deployment", [keep])]).count == 1)
        #expect(h.status(drop) == nil)
        try upstream.commit(["keep.yaml": nil])
        let refused = await h.daemon.sourcePass()
        #expect(refused.pruneRefused?.contains("it would destroy every deployment") == true)
        #expect(try await ec2.vpcs([("tag:reclaw:deployment", [keep])]).count == 1)
    }
}
