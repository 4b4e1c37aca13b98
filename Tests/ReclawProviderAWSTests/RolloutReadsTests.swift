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
}
