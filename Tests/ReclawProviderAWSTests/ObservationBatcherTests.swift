import Foundation
@testable import ReclawProviderAWS
import ReclawEngine
import ReclawAWS
import ReclawTestSupport
import Synchronization
import Testing

/// Plans asked for together read their region once.
@Suite struct ObservationBatcherTests {
    @Test func plansAskingWithinTheWindowShareOneObservationThatStartsAfterAllOfThem() async throws {
        let batcher = ObservationBatcher()
        let runs = Runs()
        let key = ObservationBatcher.Key(region: "eu-west-1", roleArn: nil)
        let results = try await withThrowingTaskGroup(of: Observation.self) { group in
            for i in 0..<5 {
                group.addTask {
                    try await batcher.observe(key, .init(imageAliases: ["ssm:/img/\(i)"], deployments: ["d\(i)"]), window: .milliseconds(300)) { request in
                        runs.value.withLock { $0.append(request) }
                        return Observation(imageAliases: ["ran": "\(request.deployments.count)"])
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let ran = runs.value.withLock { $0 }
        #expect(ran.count == 1 && ran[0].deployments.count == 5 && ran[0].imageAliases.count == 5)
        #expect(results.count == 5 && results.allSatisfy { $0.imageAliases["ran"] == "5" })
        #expect(await batcher.observations == 1)
    }

    @Test func aFailedObservationFailsEveryPlanThatSharedItAndTheNextAskRunsAgain() async throws {
        let batcher = ObservationBatcher()
        let key = ObservationBatcher.Key(region: "eu-west-1", roleArn: nil)
        let failure = AWSError(kind: .service, code: "UnauthorizedOperation", message: "no", service: "ec2", operation: "DescribeVpcs", region: "eu-west-1")
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<3 {
                group.addTask {
                    do {
                        _ = try await batcher.observe(key, .init(imageAliases: [], deployments: ["d\(i)"]), window: .milliseconds(200)) { _ async throws(AWSError) -> Observation in
                            throw failure
                        }
                        return true
                    } catch { return false }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes == [false, false, false])
        _ = try await batcher.observe(key, .init(imageAliases: [], deployments: ["d"]), window: .zero) { _ in Observation() }
        #expect(await batcher.observations == 2)
    }

    @Test func deploymentsPlannedTogetherByTheirOwnJobsReadTheRegionOnce() async throws {
        let key = "AKIDBATCH" + String(UUID().uuidString.filter(\.isHexDigit).prefix(11)).uppercased()
        let h = Harness(accessKey: key)
        let region = "eu-central-1"
        let specs = (0..<4).map { _ in testSpec("batch", region: region) }
        // Four jobs, each planning its own deployment, at the same moment.
        let plans = await withTaskGroup(of: Bool.self) { group in
            for spec in specs {
                group.addTask { (try? await h.reconciler.plan([ReconcileTarget(spec: spec, revision: "r1")], record: false).first?.get()) != nil }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(plans.allSatisfy { $0 })
        let vpcReads = try await h.emulator.requests(service: "ec2", operation: "DescribeVpcs").filter { $0["accessKeyId"] as? String == key }
        #expect(vpcReads.count == 1, "\(vpcReads.count) observations of one region for four plans asked together")
    }
}

/// The requests an observation ran for, as the batcher handed them over.
final class Runs: Sendable {
    let value = Mutex<[ObservationBatcher.Request]>([])
}

/// A job reads what it needs: the region's listings are shared, but nothing of another deployment
/// is read one by one.
@Suite struct OneDeploymentsReadsTests {
    @Test func planningOneDeploymentReadsTheSlowAttributesOfItsOwnVpcOnlyWhateverElseIsInTheRegion() async throws {
        let region = "ap-northeast-3"
        let builder = Harness()
        let specs = [testSpec("mine", region: region), testSpec("other", region: region), testSpec("other", region: region)]
        for planned in try await builder.reconciler.plan(specs.map { ReconcileTarget(spec: $0, revision: "r1") }).map({ try $0.get() }) {
            #expect(try await builder.reconciler.apply(planned).converged)
        }
        // Another reconciler, with no slow attributes cached yet, plans the first deployment alone.
        let key = "AKIDONLY" + String(UUID().uuidString.filter(\.isHexDigit).prefix(12)).uppercased()
        let h = Harness(accessKey: key)
        let planned = try #require(await h.reconciler.plan([ReconcileTarget(spec: specs[0], revision: "r1")], record: false).first).get()
        #expect(planned.observed["vpc"] != nil)
        let reads = try await h.emulator.requests(service: "ec2", operation: "DescribeVpcAttribute").filter { $0["accessKeyId"] as? String == key }
        #expect(reads.count == 2, "DNS attributes of \(reads.count / 2) VPCs read to plan one deployment")
    }

    @Test("the daemon's pass over a region reads the DNS attributes of its budget of VPCs, those read longest ago first")
    func aPassReadsItsBudgetOfDueVpcs() async throws {
        let region = "ap-southeast-3"
        let clock = ManualClock()
        let key = "AKIDBUDGET" + String(UUID().uuidString.filter(\.isHexDigit).prefix(10)).uppercased()
        let h = Harness(settings: ProviderSettings(slowReadsPerObservation: 1), accessKey: key, now: clock.now)
        let targets = (0..<3).map { _ in ReconcileTarget(spec: testSpec("budget", region: region), revision: "r1") }
        for planned in try await h.reconciler.plan(targets).map({ try $0.get() }) { #expect(try await h.reconciler.apply(planned).converged) }
        let vpcs = try await h.reconciler.plan(targets, record: false).map { try #require(try $0.get().observed["vpc"]?.id) }
        func dnsReads() async throws -> Int {
            try await h.emulator.requests(service: "ec2", operation: "DescribeVpcAttribute").filter { $0["accessKeyId"] as? String == key }.count
        }
        // What reclaw set when it made them is recorded: nothing to read until the interval has passed.
        #expect(try await dnsReads() == 0)
        clock.advance(ProviderSettings.defaultSlowReadInterval.inSeconds + 1)
        var fresh: [Set<String>] = []
        for _ in 0..<3 {
            let plans = try await h.reconciler.plan(targets, record: false).map { try $0.get() }
            #expect(plans.allSatisfy { !$0.plan.hasChanges })
            var now: Set<String> = []
            for id in vpcs where await h.reconciler.slowAttributes.fresh(id) != nil { now.insert(id) }
            fresh.append(now)
        }
        #expect(fresh.map(\.count) == [1, 2, 3], "one more VPC read each pass")
        #expect(try await dnsReads() == 6)
        _ = try await h.reconciler.plan(targets, record: false)
        #expect(try await dnsReads() == 6, "all read within the interval: nothing due")
    }
}

/// An instance profile that holds no role is missing from GetAccountAuthorizationDetails' pages:
/// reclaw's own is still found, and given its role back, never made again.
@Suite struct RolelessProfileTests {
    @Test func aRecordedProfileWhoseRoleWasTakenOffIsFoundAndGivenItsRoleBack() async throws {
        let h = Harness()
        let spec = testSpec("roleless", region: "eu-west-2")
        try await h.apply(spec)
        let profile = "reclaw-\(spec.name)-instance"
        _ = try await asSomeoneElse(h.emulator, """
        client("iam", "us-east-1").remove_role_from_instance_profile(InstanceProfileName=sys.argv[2], RoleName=sys.argv[2])
        """, [profile])
        let planned = try #require(await h.reconciler.plan([ReconcileTarget(spec: spec, revision: "r2")]).first).get()
        let action = planned.plan.actions.first { $0.key == "instance-profile" }
        #expect(action?.kind == .update && action?.resourceID == profile, "\(PlanRenderer.text(planned.plan))")
        #expect(try await h.reconciler.apply(planned).converged)
    }
}
