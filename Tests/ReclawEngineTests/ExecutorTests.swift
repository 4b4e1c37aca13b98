import Synchronization
import Testing
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec

@Suite struct ExecutorTests {
    let base = DesiredGraphBuilder.build(spec(), facts: facts)

    @Test func aColdApplyRunsEveryCreateAfterItsDependencies() async {
        let driver = MemoryDriver()
        let empty = ObservedDeployment(deployment: "alpha")
        let result = await Executor(driver: driver).apply(plan(base, empty), desired: base, observed: empty)
        #expect(result.converged)
        let calls = await driver.state.calls
        #expect(calls.count == 19)
        for c in base.components {
            for d in c.dependsOn { #expect(calls.firstIndex(of: "create \(d)")! < calls.firstIndex(of: "create \(c.key)")!) }
        }
        #expect(result.ids["instance"]?.hasPrefix("instance-new") == true)
    }

    @Test func independentStepsRunConcurrentlyWithinTheBound() async {
        let driver = MemoryDriver(delay: .milliseconds(30))
        let empty = ObservedDeployment(deployment: "alpha")
        _ = await Executor(driver: driver, concurrency: 3).apply(plan(base, empty), desired: base, observed: empty)
        #expect(await driver.state.maxActive == 3)
        let one = MemoryDriver(delay: .milliseconds(5))
        _ = await Executor(driver: one, concurrency: 1).apply(plan(base, empty), desired: base, observed: empty)
        #expect(await one.state.maxActive == 1)
    }

    @Test func aFailedStepStopsOnlyItsDependents() async throws {
        let driver = MemoryDriver(failOn: ["create instance-profile"])
        let empty = ObservedDeployment(deployment: "alpha")
        let result = await Executor(driver: driver).apply(plan(base, empty), desired: base, observed: empty)
        #expect(!result.converged)
        let failed = try #require(result.failed.first)
        #expect(failed.step.key == "instance-profile")
        #expect(failed.status == .failed(message: "injected failure", code: "InjectedFailure", requestID: "req-123"))
        let skipped = result.outcomes.filter { if case .skipped = $0.status { return true }; return false }.map(\.step.key)
        #expect(skipped == ["instance"])
        #expect(result.outcomes.filter(\.succeeded).count == 17)
    }

    @Test func deletionsRunDependentsFirst() async {
        let driver = MemoryDriver()
        let o = observed(for: base)
        let result = await Executor(driver: driver).apply(Differ.destroy(o, schema: AWSSchema(), region: "us-east-1", revision: "r"), desired: nil, observed: o)
        #expect(result.converged)
        let calls = await driver.state.calls
        #expect(calls.firstIndex(of: "delete instance")! < calls.firstIndex(of: "delete public-subnet")!)
        #expect(calls.firstIndex(of: "delete endpoint-ssm")! < calls.firstIndex(of: "delete endpoint-sg")!)
        #expect(calls.firstIndex(of: "delete public-subnet")! < calls.firstIndex(of: "delete vpc")!)
        #expect(calls.firstIndex(of: "delete instance-profile")! < calls.firstIndex(of: "delete role")!)
    }

    @Test func aReplacementRemovesTheOldResourceThenCreatesTheNew() async {
        let edited = DesiredGraphBuilder.build(spec { $0.instance.image = "ami-0bbbbbbbbbbbbbbbb"; $0.policy.allowReplace = true }, facts: facts)
        let driver = MemoryDriver()
        let o = observed(for: base)
        let result = await Executor(driver: driver).apply(plan(edited, o, allowReplace: true), desired: edited, observed: o)
        #expect(result.converged)
        #expect(await driver.state.calls == ["delete instance", "create instance"])
    }

    @Test func blockedActionsAreReportedNotRun() async {
        let edited = DesiredGraphBuilder.build(spec { $0.instance.image = "ami-0bbbbbbbbbbbbbbbb"; $0.openclaw.model = "us.amazon.nova-pro-v1:0" }, facts: facts)
        let driver = MemoryDriver()
        let o = observed(for: base)
        let result = await Executor(driver: driver).apply(plan(edited, o), desired: edited, observed: o)
        #expect(!result.converged)
        #expect(await driver.state.calls == ["update param-model"])
        #expect(result.problems.map(\.step.key) == ["instance"])
    }

    @Test func nothingNewStartsOnceShutdownBegins() async {
        let driver = MemoryDriver()
        let empty = ObservedDeployment(deployment: "alpha")
        let result = await Executor(driver: driver, shouldStop: { true }).apply(plan(base, empty), desired: base, observed: empty)
        #expect(await driver.state.calls.isEmpty)
        #expect(result.outcomes.allSatisfy { !$0.succeeded })
    }

    @Test func stepsBehindOnesAShutdownHeldBackAreHeldBackTooNotFailed() async {
        let driver = MemoryDriver()
        let empty = ObservedDeployment(deployment: "alpha")
        let checks = Mutex(0)
        let result = await Executor(driver: driver, concurrency: 1, shouldStop: { checks.withLock { $0 += 1; return $0 > 3 } })
            .apply(plan(base, empty), desired: base, observed: empty)
        #expect(await driver.state.calls.count == 3)
        #expect(result.problems.allSatisfy { if case .notStarted = $0.status { true } else { false } })
        #expect(result.problems.count == result.outcomes.count - 3)
    }

    /// A driver whose steps wait (for AWS) until cancelled.
    struct WaitingDriver: ActionDriver {
        func create(_ component: DesiredComponent, context: StepContext) async throws -> String {
            try await Task.sleep(for: .seconds(60))
            return "never"
        }
        func update(_ component: DesiredComponent, current: ObservedResource, changes: [AttributeChange], context: StepContext) async throws {}
        func delete(_ resource: ObservedResource, context: StepContext) async throws {}
    }

    @Test func stepsCutShortByAShutdownAreHeldBackNotFailed() async {
        let empty = ObservedDeployment(deployment: "alpha")
        let apply = Task { await Executor(driver: WaitingDriver()).apply(plan(base, empty), desired: base, observed: empty) }
        try? await Task.sleep(for: .milliseconds(100))
        apply.cancel()
        let result = await apply.value
        #expect(!result.problems.isEmpty)
        #expect(result.problems.allSatisfy { if case .notStarted = $0.status { true } else { false } }, "\(result.problems.map(\.status))")
    }
}
