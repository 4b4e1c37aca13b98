import Foundation
import ReclawAWS
import ReclawEngine
import ReclawProviderAWS
import ReclawTestSupport
import Testing

/// A create that AWS carried out but whose answer never came back (a client timeout, a dropped
/// connection) is retried; the retry's "already exists" is that very create, not someone else's
/// resource: the apply carries on, and nothing fails as NotOwned.
@Suite struct LostAnswerTests {
    @Test func aParameterAndARoleWhoseCreateAnswersWereLostAreCarriedOnNotRefused() async throws {
        let h = Harness()
        let spec = testSpec("lost-answer-\(UUID().uuidString.prefix(6).lowercased())", region: "us-west-1")
        let mine = "deployment/\(spec.name)"
        try await h.emulator.injectDrop(service: "ssm", userAgent: mine, operation: "PutParameter", afterCarryingOut: true)
        try await h.emulator.injectDrop(service: "iam", userAgent: mine, operation: "CreateRole", afterCarryingOut: true)
        let (_, result) = try await h.apply(spec)
        #expect(result.converged, "\(result.report)")
        #expect(!result.outcomes.contains { if case .failed(_, "NotOwned", _) = $0.status { return true }; return false })
        // Each was sent twice (the lost answer, then the retry that found it made).
        let calls = try await h.emulator.requests().filter { ($0["userAgent"] as? String)?.contains(mine) == true }
        #expect(calls.filter { $0["operation"] as? String == "CreateRole" }.count == 2)
        #expect(calls.filter { $0["operation"] as? String == "PutParameter" }.count == 5)
        #expect(calls.contains { $0["outcome"] as? String == "answer lost" })
        // And the next plan has nothing to do.
        let again = try await h.plan(spec)
        #expect(again.plan.actions.allSatisfy { $0.kind == .noop }, "\(again.plan.actions)")
    }

    @Test func aRetriedCreateThatFindsSomeoneElsesResourceIsStillRefused() async throws {
        let h = Harness()
        let spec = testSpec("lost-answer-\(UUID().uuidString.prefix(6).lowercased())", region: "us-west-1")
        // Someone made the role by hand; reclaw's first attempt is lost before it arrives, so its
        // resent create is the call that finds the role: not made with this deployment's tags, refused.
        try await IAMClient(client: h.client).createRole(name: "reclaw-\(spec.name)-instance", path: "/reclaw/", trustPolicy: .object([:]),
                                                         description: "by hand", tags: [:])
        try await h.emulator.injectDrop(service: "iam", userAgent: "deployment/\(spec.name)", operation: "CreateRole")
        let (_, result) = try await h.apply(spec)
        #expect(result.outcomes.contains { if case .failed(_, "NotOwned", _) = $0.status { return $0.step.key == "role" }; return false },
                "\(result.report)")
    }
}
