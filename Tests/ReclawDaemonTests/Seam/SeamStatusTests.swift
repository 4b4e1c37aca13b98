import Foundation
import ReclawController
import ReclawDaemon
import ReclawJSON
import ReclawState
import ReclawTestSupport
import Testing

/// A deployment's status and conditions after each kind of outcome, through the in-memory
/// reconciler: what the daemon records is its own logic, whatever AWS did.
@Suite struct SeamStatusTests {
    @Test("a deployment that applies cleanly is Ready, and an unchanged spec is not applied again")
    func cleanApplyIsReady() async throws {
        let h = SeamHarness()
        h.write(["app.yaml": SeamHarness.spec("app")])
        let first = await h.daemon.sourcePass()
        #expect(first.applied["app"]?.converged == true, "\(first)")
        let status = try #require(h.status("app"))
        #expect(status.condition(.ready)?.reason == .reconciliationSucceeded)
        #expect(status.condition(.stalled)?.status == .false)
        #expect(h.cloud.resources("app").resources.count == 3)
        let second = await h.daemon.sourcePass()
        #expect(second.applied.isEmpty && !second.failed, "\(second)")
        #expect(h.cloud.calls(.apply, "app").count == 1)
    }

    @Test("a failed apply leaves the deployment not Ready with AWS's error code, and a later pass converges it")
    func failedApplyIsRecordedThenRetried() async throws {
        let h = SeamHarness()
        h.cloud.script("app", .fails(code: "UnauthorizedOperation"))
        h.write(["app.yaml": SeamHarness.spec("app")])
        let first = await h.daemon.sourcePass()
        #expect(first.applied["app"]?.converged == false)
        let failed = try #require(h.status("app"))
        #expect(failed.condition(.ready)?.reason == .applyFailed)
        #expect(failed.condition(.stalled)?.reason == .retrying)
        #expect(h.events(.reconcileFailed).contains { $0.deployment == "app" && $0.errorCode == "UnauthorizedOperation" })
        #expect(h.failures("app") == 1)

        let second = await h.daemon.sourcePass()
        #expect(second.applied["app"]?.converged == true, "\(second)")
        #expect(h.status("app")?.holds(.ready) == true)
        #expect(h.failures("app") == 0)
    }

    @Test("a throttled observation is recorded as a plan failure and the next pass applies")
    func throttledPlanIsAPlanFailure() async throws {
        let h = SeamHarness()
        h.cloud.script("app", .throttled)
        h.write(["app.yaml": SeamHarness.spec("app")])
        let first = await h.daemon.sourcePass()
        #expect(first.planFailures == ["app"], "\(first)")
        #expect(h.status("app")?.condition(.ready)?.reason == .planFailed)
        #expect(h.cloud.calls(.apply, "app").isEmpty)
        #expect(h.events(.reconcileFailed).contains { $0.deployment == "app" && $0.errorCode == "Throttling" })
        #expect(await h.daemon.sourcePass().applied["app"]?.converged == true)
        #expect(h.status("app")?.holds(.ready) == true)
    }

    @Test("an invalid spec is recorded as InvalidSpec and never planned, while a valid one beside it applies")
    func invalidSpecIsNeverPlanned() async throws {
        let h = SeamHarness()
        let broken = SeamHarness.spec("bad").replacingOccurrences(of: "openclaw:", with: "openclaw:\n    gatewayPort: 99999\n  openClaw:")
        h.write(["bad.yaml": broken, "good.yaml": SeamHarness.spec("good")])
        let report = await h.daemon.sourcePass()
        #expect(report.invalid == ["bad"], "\(report)")
        #expect(report.applied["good"]?.converged == true)
        let bad = try #require(h.status("bad"))
        #expect(bad.condition(.ready)?.reason == .invalidSpec)
        #expect(bad.condition(.stalled)?.status == .true)
        #expect(h.cloud.calls.filter { $0.deployment == "bad" }.isEmpty)
    }

    @Test("a spec that left the directory is destroyed under prune, its status removed")
    func prunedDeploymentIsDestroyed() async throws {
        let h = SeamHarness(options: DaemonOptions(interval: .seconds(3600), driftInterval: .seconds(3600), prune: true))
        h.write(["keep.yaml": SeamHarness.spec("keep"), "drop.yaml": SeamHarness.spec("drop")])
        #expect(await h.daemon.sourcePass().applied.count == 2)
        h.write(["drop.yaml": nil])
        let report = await h.daemon.sourcePass()
        #expect(report.pruned == ["drop"], "\(report)")
        #expect(h.cloud.resources("drop").isEmpty)
        #expect(h.status("drop") == nil)
        #expect(h.cloud.resources("keep").resources.count == 3)
        h.write(["keep.yaml": nil])
        let refused = await h.daemon.sourcePass()
        #expect(refused.pruneRefused?.contains("it would destroy every deployment") == true)
        #expect(h.cloud.resources("keep").resources.count == 3)
    }
}
