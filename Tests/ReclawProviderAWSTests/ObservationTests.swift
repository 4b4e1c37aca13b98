import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawProviderAWS
import ReclawSpec
import ReclawTestSupport
import Testing

/// What observation costs, counted at the emulator, and what a failed read takes down.
@Suite struct ObservationTests {
    /// Calls by service and operation made with one access key that AWS answered (attempts the
    /// client made again after an error on a loaded emulator are not the plan's cost).
    static func calls(_ emulator: Emulator, key: String) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for call in try await emulator.requests() where call["accessKeyId"] as? String == key && call["outcome"] as? String == "ok" {
            out["\(call["service"] ?? "?") \(call["operation"] ?? "?")", default: 0] += 1
        }
        return out
    }

    static func difference(_ after: [String: Int], _ before: [String: Int]) -> [String: Int] {
        after.reduce(into: [:]) { out, e in
            let d = e.value - (before[e.key] ?? 0)
            if d > 0 { out[e.key] = d }
        }
    }

    /// The calls of one no-op plan of `n` deployments, once they are applied; and the calls of the
    /// first plan after the apply.
    func noOpPlan(_ n: Int, region: String) async throws -> (steady: [String: Int], first: [String: Int]) {
        let key = "AKIDCOST" + String(UUID().uuidString.filter(\.isHexDigit).prefix(12)).uppercased()
        let h = Harness(accessKey: key)
        let specs = (0..<n).map { _ in testSpec("cost", region: region) }
        let targets = specs.map { ReconcileTarget(spec: $0, revision: "r1") }
        // Applied side by side, as the daemon applies deployments planned together.
        try await withThrowingTaskGroup(of: ApplyResult.self) { group in
            for planned in try await h.reconciler.plan(targets).map({ try $0.get() }) {
                group.addTask { try await h.reconciler.apply(planned) }
            }
            for try await result in group { #expect(result.converged, "\(result.report)") }
        }
        var before = try await Self.calls(h.emulator, key: key)
        let first = try await h.reconciler.plan(targets, record: false).map { try $0.get() }
        #expect(first.allSatisfy { !$0.plan.hasChanges })
        var after = try await Self.calls(h.emulator, key: key)
        let firstCalls = Self.difference(after, before)
        before = after
        let second = try await h.reconciler.plan(targets, record: false).map { try $0.get() }
        #expect(second.allSatisfy { !$0.plan.hasChanges && $0.plan.drift.isEmpty })
        after = try await Self.calls(h.emulator, key: key)
        return (Self.difference(after, before), firstCalls)
    }

    @Test func aNoOpPlanCostsTheSameCallsForOneDeploymentAsForTen() async throws {
        // Regions no other test uses: pages of SSM and tagging answers depend on what else is there.
        async let single = noOpPlan(1, region: "me-central-1")
        async let many = noOpPlan(10, region: "ca-west-1")
        let ((one, oneFirst), (ten, tenFirst)) = try await (single, many)
        print("no-op plan calls, 1 deployment: \(one.sorted { $0.key < $1.key })")
        print("no-op plan calls, 10 deployments: \(ten.sorted { $0.key < $1.key })")
        func service(_ calls: [String: Int], _ prefix: String) -> [String: Int] { calls.filter { $0.key.hasPrefix(prefix + " ") } }
        // EC2 and IAM: the same calls whatever the number of deployments. (ListInstanceProfileTags
        // is left out: the emulator cannot answer it, so each untagged profile other tests leave at
        // reclaw's path costs a failed read every time; reclaw's own profiles are cached.)
        #expect(service(one, "ec2") == service(ten, "ec2"))
        #expect(service(one, "iam").filter { !$0.key.hasSuffix("ListInstanceProfileTags") } == service(ten, "iam").filter { !$0.key.hasSuffix("ListInstanceProfileTags") })
        #expect(one["ec2 DescribeVpcAttribute"] == nil && ten["ec2 DescribeVpcAttribute"] == nil)
        // SSM and the tagging API too: ten deployments' forty parameters fit one page of each
        // listing (DescribeParameters takes fifty, GetResources a hundred), and no value is read
        // again once known (only the image reference, in one GetParameters).
        #expect(service(one, "ssm") == service(ten, "ssm") && service(one, "tagging") == service(ten, "tagging"))
        #expect(one["ssm GetParameters"] == 1 && one["ssm DescribeParameters"] == 1 && one["ssm GetParameter"] == nil)
        // One read per resource type: route tables once, image references inside GetParameters,
        // instance profiles from GetAccountAuthorizationDetails, AMIs described once per process.
        #expect(one.values.reduce(0, +) <= 12, "\(one)")
        #expect(one["ec2 DescribeRouteTables"] == 1 && one["ec2 DescribeImages"] == nil && one["iam ListInstanceProfiles"] == nil)
        // The slow attributes are what reclaw set when it made the VPCs: nothing reads them back.
        #expect(oneFirst["ec2 DescribeVpcAttribute"] == nil && tenFirst["ec2 DescribeVpcAttribute"] == nil)
    }

    @Test func aReadThatFailsForAProfileNoPlannedDeploymentOwnsBlocksNothing() async throws {
        let h = Harness()
        let spec = testSpec("partial", region: "il-central-1")
        try await h.apply(spec)
        // Untagged instance profiles at reclaw's path: one whose name is no deployment's, one named
        // as a deployment that is not planned here. Reading their tags fails (HTTP 500).
        let ghost = uniqueName("ghost")
        let names = ["someone-\(UUID().uuidString.prefix(8))", "reclaw-\(ghost)-instance"]
        try await asSomeoneElse(h.emulator, """
        for n in sys.argv[2:4]:
            client("iam", "us-east-1").create_instance_profile(InstanceProfileName=n, Path="/reclaw/")
        """, names)
        let fault = try await h.emulator.injectError(userAgent: "deployment/\(spec.name);", operation: "ListInstanceProfileTags", code: "InternalFailure",
                                                     status: 500, count: nil)
        let planned = await h.reconciler.plan([ReconcileTarget(spec: spec, revision: "r1")])
        try await h.emulator.removeFault(fault)
        let plan = try #require(planned.first).get()
        #expect(!plan.plan.hasChanges, "\(PlanRenderer.text(plan.plan))")
        // Planning lists profiles from GetAccountAuthorizationDetails, where a profile holding no
        // role does not appear: theirs are not even read. Destroy and prune list every profile.
        #expect(try await h.emulator.requests(operation: "ListInstanceProfileTags", userAgent: "deployment/\(spec.name);").isEmpty)
        let everything = try await h.reconciler.observe(region: spec.region, roleArn: nil)
        #expect(everything.deployments[spec.name]?["instance-profile"] != nil)
        try await asSomeoneElse(h.emulator, """
        for n in sys.argv[2:4]:
            client("iam", "us-east-1").delete_instance_profile(InstanceProfileName=n)
        """, names)
    }

    @Test func aReadThatFailsForOneDeploymentsVpcFailsThatDeploymentAlone() async throws {
        let h = Harness(maxAttempts: 1)
        let region = "ap-southeast-5"
        let specs = [testSpec("one", region: region), testSpec("two", region: region)]
        let targets = specs.map { ReconcileTarget(spec: $0, revision: "r1") }
        for planned in try await h.reconciler.plan(targets).map({ try $0.get() }) { #expect(try await h.reconciler.apply(planned).converged) }
        // Told that both VPCs changed (as CloudTrail's events would), the next observation reads
        // their DNS attributes: the first of those reads fails.
        let vpcs = try specs.compactMap { try h.reconciler.state.load($0.name)?.resourceIDs["vpc"] }
        #expect(vpcs.count == 2)
        await h.reconciler.invalidateSlowAttributes(resourceIDs: vpcs)
        try await h.emulator.injectError(region: region, operation: "DescribeVpcAttribute", code: "InternalError", status: 500, count: 1)
        let results = await h.reconciler.plan(targets)
        let failures = results.compactMap { r -> PlanFailure? in if case .failure(let f) = r { return f }; return nil }
        #expect(failures.count == 1, "\(results)")
        #expect(failures.first?.awsError?.code == "InternalError" && failures.first?.awsError?.operation == "DescribeVpcAttribute")
        #expect(results.compactMap { try? $0.get() }.map { $0.plan.hasChanges } == [false])
        // The failed one is read again next time, and plans.
        #expect(await h.reconciler.plan(targets).allSatisfy { (try? $0.get())?.plan.hasChanges == false })

        // A batched read that fails leaves nothing to say about any deployment of the region.
        try await h.emulator.injectError(region: region, operation: "DescribeSubnets", code: "InternalError", status: 500, count: 1)
        let all = await h.reconciler.plan(targets)
        #expect(all.allSatisfy { if case .failure(let f) = $0 { return f.awsError?.operation == "DescribeSubnets" }; return false })
    }

    @Test func aRootVolumeThatLostItsTagsIsStillFoundThroughTheInstance() async throws {
        let h = Harness()
        let spec = testSpec("volume", region: "il-central-1")
        try await h.apply(spec)
        let before = try await h.plan(spec)
        let volume = try #require(before.observed[Components.instance]?.details["volumeId"]?.stringValue)
        try await asSomeoneElse(h.emulator, """
        ec2 = client("ec2", sys.argv[3])
        tags = ec2.describe_volumes(VolumeIds=[sys.argv[2]])["Volumes"][0]["Tags"]
        ec2.delete_tags(Resources=[sys.argv[2]], Tags=[{"Key": t["Key"]} for t in tags])
        """, [volume, spec.region])
        let after = try await h.plan(spec)
        #expect(!after.plan.hasChanges, "\(PlanRenderer.text(after.plan))")
        let instance = try #require(after.observed[Components.instance])
        #expect(instance.details["volumeId"] == .string(volume))
        #expect(instance.attributes["rootVolumeEncrypted"] == true && instance.attributes["rootVolumeType"] == "gp3")
    }
}
