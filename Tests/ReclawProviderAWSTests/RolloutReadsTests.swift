import Foundation
import ReclawAWS
import ReclawEngine
@testable import ReclawProviderAWS
import ReclawTestSupport
import Testing

/// A rollout costs each deployment what one deployment costs: what a job set is not read back, and
/// a listing that pages covers the deployments asked for, not the fleet around them.
@Suite struct RolloutReadsTests {
    static func key(_ prefix: String) -> String {
        prefix + String(UUID().uuidString.filter(\.isHexDigit).prefix(20 - prefix.count)).uppercased()
    }

    @Test("what reclaw just made is not read back: the next plan takes DNS attributes and profile tags from what was set")
    func dnsAttributesSetAtCreateAreRecorded() async throws {
        let key = Self.key("AKIDSET")
        let h = Harness(accessKey: key)
        let spec = testSpec("dnsset", region: "eu-north-1")
        let (_, applied) = try await h.apply(spec)
        #expect(applied.converged, "\(applied.report)")
        let next = try await h.plan(spec, revision: "r2")
        #expect(!next.plan.hasChanges, "\(PlanRenderer.text(next.plan))")
        #expect(next.observed["vpc"]?.attributes["enableDnsHostnames"] == .bool(true))
        let reads = try await h.emulator.requests(service: "ec2", operation: "DescribeVpcAttribute").filter { $0["accessKeyId"] as? String == key }
        #expect(reads.isEmpty, "\(reads.count) DNS attributes read back after reclaw set them")
        let tags = try await h.emulator.requests(service: "iam", operation: "ListInstanceProfileTags").filter { $0["accessKeyId"] as? String == key }
        #expect(tags.isEmpty, "the tags of an instance profile reclaw made with them read back \(tags.count) times")
    }

    @Test("a DNS attribute put back by a drift correction is recorded as set, not read again")
    func dnsAttributesSetByAnUpdateAreRecorded() async throws {
        let key = Self.key("AKIDFIX")
        let h = Harness(accessKey: key)
        let spec = testSpec("dnsfix", region: "eu-north-1")
        try await h.apply(spec)
        let vpc = try #require(try await h.plan(spec).observed["vpc"]?.id)
        _ = try await asSomeoneElse(h.emulator, """
        client("ec2", "eu-north-1").modify_vpc_attribute(VpcId=sys.argv[2], EnableDnsHostnames={"Value": False})
        """, [vpc])
        // As CloudTrail's event of the change would.
        await h.reconciler.invalidateSlowAttributes(resourceIDs: [vpc])
        let correction = try await h.plan(spec, revision: "r2")
        #expect(correction.plan.actions.first { $0.key == "vpc" }?.kind == .update, "\(PlanRenderer.text(correction.plan))")
        #expect(try await h.reconciler.apply(correction).converged)
        let before = try await h.emulator.requests(service: "ec2", operation: "DescribeVpcAttribute").filter { $0["accessKeyId"] as? String == key }.count
        let after = try await h.plan(spec, revision: "r3")
        #expect(!after.plan.hasChanges, "\(PlanRenderer.text(after.plan))")
        let reads = try await h.emulator.requests(service: "ec2", operation: "DescribeVpcAttribute").filter { $0["accessKeyId"] as? String == key }.count
        #expect(reads == before, "\(reads - before) DNS attributes read back after the correction set them")
    }

    @Test("observing a few deployments lists their parameters alone, however many the region holds")
    func parameterListingCoversTheDeploymentsAsked() async throws {
        let key = Self.key("AKIDPAGE")
        let h = Harness(accessKey: key)
        let region = "ap-south-1"
        let mine = uniqueName("mine"), crowd = uniqueName("crowd")
        // 102 parameters of other deployments: several pages of the region-wide listing.
        _ = try await asSomeoneElse(h.emulator, """
        ssm = client("ssm", sys.argv[4])
        def put(deployment, name):
            ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "reclaw:deployment", "Value": deployment},
                              {"Key": "reclaw:component", "Value": "param-model"}, {"Key": "reclaw:managed-by", "Value": "reclaw"}])
        for i in range(102):
            put(f"{sys.argv[3]}-{i}", f"/reclaw/{sys.argv[3]}-{i}/model")
        put(sys.argv[2], f"/reclaw/{sys.argv[2]}/model")
        """, [mine, crowd, region])
        func listings() async throws -> Int {
            try await h.emulator.requests(service: "tagging", operation: "GetResources").filter { $0["accessKeyId"] as? String == key }.count
        }
        let observer = AWSObserver(client: h.client, region: region)
        let scoped = try await observer.observe(only: [mine])
        #expect(scoped.deployments[mine]?["param-model"]?.id == "/reclaw/\(mine)/model")
        #expect(try await listings() == 1)
        let everything = try await observer.observe()
        #expect(everything.deployments.keys.filter { $0.hasPrefix(crowd) }.count == 102)
        #expect(try await listings() > 2, "the region-wide listing pages")
    }
}
