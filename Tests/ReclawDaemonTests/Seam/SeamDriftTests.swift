import Foundation
import ReclawAudit
import ReclawCatalog
import ReclawController
import ReclawDaemon
import ReclawJSON
import ReclawState
import Testing

/// Drift handling through the in-memory reconciler: a hand-made change to what the cloud holds,
/// and what each `policy.drift` makes the daemon do about it.
@Suite struct SeamDriftTests {
    static let sshOpen: JSONValue = .array([.string("tcp/22 from 0.0.0.0/0")])
    static let rdpOpen: JSONValue = .array([.string("tcp/22 from 0.0.0.0/0"), .string("tcp/3389 from 0.0.0.0/0")])

    @Test("drift under policy.drift: correct is corrected by the next reconcile and recorded as corrected")
    func correctPolicyCorrects() async throws {
        let h = SeamHarness()
        h.write(["app.yaml": SeamHarness.spec("app")])
        #expect(await h.daemon.sourcePass().applied["app"]?.converged == true)
        h.cloud.change("app", Components.instanceSG, "ingress", to: Self.sshOpen)
        let findings = await h.daemon.driftPass()
        #expect(findings.map(\.deployment) == ["app"])
        #expect(h.cloud.attribute("app", Components.instanceSG, "ingress") == .array([]), "the drift was not corrected")
        let corrected = try #require(h.events(.driftCorrected).first { $0.deployment == "app" })
        #expect(corrected.attributionStatus == "pending")
        #expect(h.events(.driftDetected).isEmpty)
        let status = try #require(h.status("app"))
        #expect(status.holds(.ready) && status.drift.isEmpty)
        #expect(await h.daemon.driftPass().isEmpty, "the corrected deployment still drifts")
    }

    @Test("drift under policy.drift: alert is reported once, again when it changes, resolved when gone, and never corrected")
    func alertPolicyReportsOnly() async throws {
        let h = SeamHarness()
        h.write(["app.yaml": SeamHarness.spec("app", extra: "  policy: {drift: alert}")])
        #expect(await h.daemon.sourcePass().applied["app"]?.converged == true)
        h.cloud.change("app", Components.instanceSG, "ingress", to: Self.sshOpen)
        #expect(await h.daemon.driftPass().map(\.deployment) == ["app"])
        #expect(await h.daemon.driftPass().map(\.deployment) == ["app"])
        #expect(h.events(.driftDetected).count == 1, "the same drift was reported twice")
        #expect(h.cloud.attribute("app", Components.instanceSG, "ingress") == Self.sshOpen, "alert-only drift was corrected")
        #expect(h.status("app")?.condition(.drifted)?.status == .true)
        #expect(h.cloud.calls(.apply, "app").count == 1)

        h.cloud.change("app", Components.instanceSG, "ingress", to: Self.rdpOpen)
        _ = await h.daemon.driftPass()
        #expect(h.events(.driftDetected).count == 2, "changed drift was not reported again")

        h.cloud.change("app", Components.instanceSG, "ingress", to: .array([]))
        #expect(await h.daemon.driftPass().isEmpty)
        #expect(h.events(.driftResolved).map(\.deployment) == ["app"])
        #expect(h.status("app")?.condition(.drifted)?.status == .false)
        #expect(h.events(.driftCorrected).isEmpty)
    }
}
