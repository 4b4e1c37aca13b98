import Foundation
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawEngine
import ReclawProviderAWS
import ReclawSpec
import ReclawState
import ReclawTestSupport
import Synchronization
import Testing

/// A deployment's life against the emulator's realistic mode (AWS's delays and refusals, scaled
/// down): every transient is waited out inside its step, nothing is reported as failed, and a
/// real failure is still reported once with its code.
@Suite struct RealisticModeTests {
    /// A realistic emulator for each test (each changes its behaviours, and the two run side by
    /// side), at a twentieth of AWS's durations.
    // New ids stay unknown for 3 s: long enough that a machine busy with the whole suite still meets them.
    static func emulator(_ behaviours: [String: [String: Any]]) throws -> Emulator {
        try Emulator.start(realistic: true, scale: 0.05, behaviours: behaviours.merging(["eventualConsistency": ["seconds": 3]]) { a, _ in a })
    }
    /// AWS's deadlines at a fifth: far above the scaled durations, short enough to fail a test that hangs.
    static let deadlines = TransientDeadlines().scaled(0.2)

    static func harness(_ emulator: Emulator) -> Harness { Harness(emulator: emulator, deadlines: deadlines, logLevel: .warning) }

    /// The components a plan creates, each of which must exist exactly once afterwards.
    static func created(_ plan: Plan) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: plan.actions.filter { $0.kind == .create }.map { ($0.key, 1) })
    }

    /// Applies while watching the deployments' Reconciling condition; returns the results and every
    /// Waiting message seen.
    /// Lets the SSM agents register once a SendCommand was refused for want of one (InvalidInstanceId).
    static func registerAgentsOnceRefused(_ emulator: Emulator, region: String) async throws {
        for _ in 0..<3000 {
            let sends = try await emulator.requests(service: "ssm", operation: "SendCommand", region: region)
            if sends.contains(where: { $0["errorCode"] as? String == "InvalidInstanceId" }) {
                _ = try await emulator.setBehaviour(.ssmAgentRegistration, seconds: 0)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no SendCommand was refused for an unregistered agent")
        _ = try await emulator.setBehaviour(.ssmAgentRegistration, seconds: 0)
    }

    static func applyWatching(_ h: Harness, _ plans: [PlannedDeployment]) async throws -> ([String: ApplyResult], [String]) {
        let seen = Shared<[String]>([])
        let done = Shared(false)
        let names = plans.map(\.name)
        let state = h.reconciler.state
        var results: [String: ApplyResult] = [:]
        try await withThrowingTaskGroup(of: (String, ApplyResult)?.self) { group in
            group.addTask {
                while !done.value {
                    for name in names {
                        if let c = try? state.load(name)?.condition(.reconciling), c.reason == .waiting {
                            seen.update { if $0.last != c.message { $0.append(c.message) } }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(40))
                }
                return nil
            }
            for p in plans {
                group.addTask { (p.name, try await h.reconciler.apply(p)) }
            }
            var finished = 0
            for try await r in group {
                guard let (name, result) = r else { continue }
                results[name] = result
                finished += 1
                if finished == plans.count { done.update { $0 = true } }
            }
        }
        return (results, seen.value)
    }

    static func failures(_ h: Harness) -> [AuditEvent] {
        h.auditLog.read().filter { $0.eventType == .actionFailed || $0.eventType == .reconcileFailed }
    }

    @Test func aColdCreateInTwoRegionsWaitsOutEveryTransientAndMakesExactlyOneOfEachResource() async throws {
        // The second deployment acts through a deployer role made just now: AssumeRole refuses it until IAM propagates it
        // (long enough here that a loaded machine cannot miss it, shorter than the 24 s deadline).
        let emulator = try Self.emulator(["iamPropagation": ["seconds": 20]])
        defer { emulator.stop() }
        let h = Self.harness(emulator)
        let deployer = uniqueName("deployer")
        try await IAMClient(client: h.client).createRole(
            name: deployer, path: "/deployers/", trustPolicy: IAM.policyDocument(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#),
            description: "test deployer", tags: [:])
        let a = testSpec("cold", region: "us-west-1")
        let b = testSpec("cold", region: "eu-central-1") { $0.roleArn = "arn:aws:iam::123456789012:role/deployers/\(deployer)" }
        let planned = try await h.reconciler.plan([ReconcileTarget(spec: a, revision: "r1"), ReconcileTarget(spec: b, revision: "r1")]).map { try $0.get() }
        let (results, waits) = try await Self.applyWatching(h, planned)
        try await h.emulator.setBehaviour(.iamPropagation, seconds: nil)
        for p in planned {
            #expect(results[p.name]?.converged == true, "\(results[p.name]?.report ?? "not applied")")
            #expect(try await h.emulator.resourceCounts(p.name, region: p.plan.region) == Self.created(p.plan))
        }
        #expect(Self.failures(h).isEmpty, "\(Self.failures(h).map { $0.message ?? "" })")
        // A condition names every wait under way, joined by "; ": one of them is the endpoint's.
        let each = waits.flatMap { $0.components(separatedBy: "; ") }
        #expect(each.contains { $0.hasPrefix("waiting for endpoint vpce-") && $0.contains("to become available") && $0.contains("deadline") }, "\(waits)")
        // The realistic mode did refuse calls: new ids not yet visible, the new role not yet assumable.
        let refused = try await h.emulator.requests().filter { $0["outcome"] as? String == "refused" }.compactMap { $0["errorCode"] as? String }
        #expect(refused.contains { $0.hasSuffix(".NotFound") }, "\(Set(refused))")
        #expect(refused.contains("AccessDenied"), "\(Set(refused))")
        // A second plan is empty, and AWS is at rest: every endpoint available, the instances running.
        for (spec, p) in zip([a, b], planned) {
            let again = try await h.plan(spec, revision: "r2")
            #expect(!again.plan.hasChanges, "\(PlanRenderer.text(again.plan))")
            let ec2 = EC2Client(client: h.client, region: spec.region)
            #expect(try await ec2.vpcEndpoints([("tag:reclaw:deployment", [p.name])]).allSatisfy { $0.state == "available" })
        }

        // Destroy both: endpoints take a while to go, and their subnets and group are refused (DependencyViolation) until they have.
        let destroys = try await [a, b].asyncMap { try await h.reconciler.destroyPlan(deployment: $0.name, region: $0.region, roleArn: $0.roleArn, revision: "r3") }
        let (destroyed, _) = try await Self.applyWatching(h, destroys)
        for p in destroys {
            #expect(destroyed[p.name]?.converged == true, "\(destroyed[p.name]?.report ?? "not applied")")
            #expect(try await h.emulator.resourceCounts(p.name, region: p.plan.region).isEmpty)
        }
        #expect(Self.failures(h).isEmpty, "\(Self.failures(h).map { $0.message ?? "" })")
    }

    @Test func editsReachAJustCreatedInstanceOnceItsAgentRegistersAndAFailingScriptIsReportedOnce() async throws {
        // The agent registers only once the test lets it, after reclaw's first SendCommand was refused
        // for it: however loaded the machine, reclaw meets an unregistered agent and waits it out.
        let emulator = try Self.emulator(["ssmAgentRegistration": ["seconds": 3600]])
        defer { emulator.stop() }
        let h = Self.harness(emulator)
        let spec = testSpec("agent", region: "ap-northeast-1")
        let (_, created) = try await h.apply(spec)
        #expect(created.converged, "\(created.report)")
        let instance = try #require(created.ids["instance"])

        var edited = spec
        edited.openclaw.version = "2026.3.0"
        let planned = try await h.plan(edited, revision: "r2")
        #expect(planned.plan.changes.map { "\($0.kind.symbol) \($0.key)" }.sorted() == ["~ instance", "~ param-version"], "\(PlanRenderer.text(planned.plan))")
        async let released: Void = Self.registerAgentsOnceRefused(h.emulator, region: spec.region)
        let (results, waits) = try await Self.applyWatching(h, [planned])
        try await released
        #expect(results[spec.name]?.converged == true, "\(results[spec.name]?.report ?? "")")
        #expect(waits.contains { $0.contains("the SSM agent of \(instance) to register") }, "\(waits)")
        let sends = try await h.emulator.requests(service: "ssm", operation: "SendCommand", region: spec.region)
        #expect(sends.contains { $0["errorCode"] as? String == "InvalidInstanceId" }, "the agent was registered already: the test proves nothing")
        #expect(sends.last?["outcome"] as? String == "ok")
        #expect(Self.failures(h).isEmpty, "\(Self.failures(h).map { $0.message ?? "" })")
        let again = try await h.plan(edited, revision: "r3")
        #expect(!again.plan.hasChanges, "\(PlanRenderer.text(again.plan))")

        // A converge script that fails is a real failure: reported once, with its code.
        try await h.emulator.failNextCommands(.failed, stderr: "npm ERR! 404", instanceId: instance, region: spec.region)
        edited.openclaw.version = "2026.3.1"
        let failing = try await h.plan(edited, revision: "r4")
        let result = try await h.reconciler.apply(failing)
        #expect(!result.converged)
        let failed = h.auditLog.read().filter { $0.eventType == .actionFailed && $0.planID == failing.plan.id }
        #expect(failed.count == 1 && failed.first?.errorCode == "ConvergeFailed", "\(failed.map { $0.message ?? "" })")
        #expect(failed.first?.errorMessage?.contains("npm ERR! 404") == true && failed.first?.requestID != nil)
        try await h.emulator.setBehaviour(.ssmAgentRegistration, seconds: nil)

        // A new instance type: stopping → stopped, modified, pending → running, then the pending converge.
        edited.instance.type = "t4g.large"
        let resized = try await h.plan(edited, revision: "r5")
        #expect(resized.plan.changes.map { "\($0.kind.symbol) \($0.key)" } == ["~ instance"], "\(PlanRenderer.text(resized.plan))")
        let (after, stops) = try await Self.applyWatching(h, [resized])
        #expect(after[spec.name]?.converged == true, "\(after[spec.name]?.report ?? "")")
        #expect(stops.contains { $0.contains("instance \(instance) to be stopped") }, "\(stops)")
        let now = try #require(try await EC2Client(client: h.client, region: spec.region).instances([("instance-id", [instance])]).first)
        #expect(now.type == "t4g.large" && now.state == "running")
        #expect(h.auditLog.read().filter { $0.eventType == .actionFailed }.count == 1, "only the converge script's failure")
    }
}

/// A value shared by concurrent test tasks.
final class Shared<T: Sendable>: Sendable {
    private let box: Mutex<T>
    init(_ value: T) { box = Mutex(value) }
    var value: T { box.withLock { $0 } }
    func update(_ change: (inout T) -> Void) { box.withLock { change(&$0) } }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
