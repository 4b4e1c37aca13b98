import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawSpec
import ReclawState
import ReclawTestSupport
import Testing

/// The daemon as a controller against the emulator: a state it cannot keep stops work on that
/// deployment instead of flipping AWS back. (That one deployment never waits for another is
/// SeamLoopTests' business, over the in-memory reconciler.)
@Suite struct ControllerTests {
    @Test func anApplyWhoseStatusCannotBeWrittenStallsItsDeploymentAndDriftNeverFlipsAWSBack() async throws {
        let upstream = try Upstream()
        let name = uniqueName("flip")
        let region = "sa-east-1"
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region)])
        let h = try DaemonHarness(upstream: upstream)
        #expect(await h.daemon.sourcePass().applied[name]?.converged == true)
        let deployments = h.dir.file("state/deployments")
        let saved = h.dir.file("saved-deployments")
        try FileManager.default.copyItem(atPath: deployments, toPath: saved)

        // The next revision changes the port; its status cannot be written once it is applied.
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region)
            .replacingOccurrences(of: "openclaw: {version: \"2026.2.3\"}", with: "openclaw: {version: \"2026.2.3\", gatewayPort: 18790}")])
        let delay = try await h.emulator.injectDelay(userAgent: "deployment/\(name);", operation: "SendCommand", milliseconds: 1500)
        async let pass = h.daemon.sourcePass()
        #expect(await eventually(.seconds(60)) {
            h.events(.actionApplied).contains { $0.deployment == name && $0.details?["component"]?.stringValue == "param-gateway-port" }
        })
        try FileManager.default.removeItem(atPath: deployments)
        try "not a directory".write(toFile: deployments, atomically: true, encoding: .utf8)
        let report = await pass
        try await h.emulator.removeFault(delay)
        #expect(report.failed && report.stalled == [name], "\(report)")

        // The status on disk is the old revision's again: a drift check must not "correct" the new port.
        try FileManager.default.removeItem(atPath: deployments)
        try FileManager.default.moveItem(atPath: saved, toPath: deployments)
        #expect(try h.state.load(name)?.lastAppliedSpec?.openclaw.gatewayPort == 18789)
        _ = await h.daemon.driftPass()
        let port = try await SSMClient(client: h.client, region: region).parameters(["/openclaw/\(name)/gateway-port"]).first?.value
        #expect(port == "18790", "the drift check flipped AWS back to the state it could not record")
        #expect(h.events(.reconcileFailed).contains { $0.deployment == name && $0.errorCode == "StateUnavailable" })
    }
}
