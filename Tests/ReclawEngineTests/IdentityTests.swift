import ReclawCatalog
import ReclawEngine
import ReclawJSON
import Testing

/// Which resource is a component's: the one reclaw recorded, never whichever carries the tags.
@Suite struct IdentityTests {
    let base = DesiredGraphBuilder.build(spec(), facts: facts)

    /// AWS after a perfect apply, plus a hand-launched copy of the instance carrying its tags.
    func withCopy(running original: Bool = false) -> (observed: ObservedDeployment, recorded: [ComponentKey: String]) {
        var o = observed(for: base)
        var copy = o.resources["instance"]![0]
        copy.id = "i-copy"
        copy.attributes["httpTokens"] = "optional"
        o.add(copy)
        return (o, o.resources.compactMapValues { $0.first?.id })
    }

    @Test func theRecordedResourceIsKeptAndACopyWithItsTagsIsALookAlike() {
        let (o, recorded) = withCopy()
        let resolved = Identity.resolve(o, recorded: recorded)
        #expect(resolved["instance"]?.id == recorded["instance"])
        #expect(resolved.lookAlikeList == [LookAlike(key: "instance", resourceID: "i-copy", recordedID: recorded["instance"])])
        #expect(resolved.unidentified.isEmpty)
    }

    @Test func aLookAlikeIsNeverDeletedNorUsedAndIsReportedAsDrift() {
        let (o, recorded) = withCopy()
        let p = plan(base, Identity.resolve(o, recorded: recorded), last: base)
        #expect(!p.actions.contains { $0.kind == .delete || $0.kind == .replace }, "\(p.changes)")
        #expect(p.actions.first { $0.key == "instance" }?.resourceID == recorded["instance"])
        #expect(p.lookAlikes.map(\.resourceID) == ["i-copy"])
        let item = p.drift.first { $0.isLookAlike }
        #expect(item?.resourceID == "i-copy" && item?.expected == .string(recorded["instance"]!) && item?.actual == "i-copy")
        #expect(PlanRenderer.text(p).contains("? instance (i-copy) # DuplicateResource: reclaw's instance is \(recorded["instance"]!)"))
    }

    @Test func withNothingRecordedTheOneResourceCarryingTheTagsIsAdopted() {
        let resolved = Identity.resolve(observed(for: base), recorded: [:])
        #expect(resolved.ids.count == base.components.count && resolved.lookAlikes.isEmpty)
        #expect(!plan(base, resolved).hasChanges)
    }

    @Test func withNothingRecordedAndSeveralCandidatesTheComponentAndWhatIsBuiltOnItAreHeldBack() {
        var o = observed(for: base)
        var copy = o.resources["vpc"]![0]
        copy.id = "vpc-copy"
        o.add(copy)
        let resolved = Identity.resolve(o, recorded: [:])
        #expect(resolved["vpc"] == nil && resolved.unidentified["vpc"]?.candidates == ["vpc-copy", "vpc-vpc"])
        let p = plan(base, resolved)
        let vpc = p.actions.first { $0.key == "vpc" }
        #expect(vpc?.kind == .noop && vpc?.blockKind == .unidentified && vpc?.blocked?.contains("vpc-copy, vpc-vpc") == true)
        #expect(!p.actions.contains { $0.kind == .create || $0.kind == .delete || $0.kind == .replace }, "\(p.changes.map(\.key))")
        #expect(p.actions.first { $0.key == "public-subnet" }?.blocked?.contains("built on vpc") == true)
        #expect(p.hasChanges, "a held-back component is shown, never taken for 'no changes'")
    }

    @Test func aRecordedResourceGoneWhileAnotherCarriesItsTagsIsHeldBackUnlessItsCreateWasInterrupted() {
        var o = observed(for: base)
        o.resources["instance"]![0].id = "i-other"
        var recorded = observed(for: base).ids
        recorded["instance"] = "i-gone"
        #expect(Identity.resolve(o, recorded: recorded).unidentified["instance"] == Identity.Unidentified(recordedID: "i-gone", candidates: ["i-other"]))
        #expect(Identity.resolve(o, recorded: recorded, interrupted: ["instance"])["instance"]?.id == "i-other")
    }
}

/// A blocked step blocks: nothing deletes or replaces what it concerns, and nothing is built on it.
@Suite struct BlockedStepTests {
    let base = DesiredGraphBuilder.build(spec(), facts: facts)

    @Test func aDeletionOfTheSameComponentAsABlockedReplacementIsHeldBack() async {
        let o = observed(for: base)
        let id = o["instance"]!.id
        let p = Plan(deployment: "alpha", revision: "r1", region: "us-east-1", actions: [
            Action(key: "instance", resourceKind: .instance, kind: .replace, resourceID: id, blocked: "needs policy.allowReplace: true"),
            Action(key: "instance", resourceKind: .instance, kind: .delete, resourceID: "i-other"),
        ])
        let driver = MemoryDriver()
        let result = await Executor(driver: driver).apply(p, desired: base, observed: o)
        #expect(await driver.state.calls.isEmpty)
        #expect(result.outcomes.count == 2 && result.outcomes.allSatisfy { if case .blocked = $0.status { return true }; return false })
        #expect(!result.converged)
    }

    @Test func aStepBuiltOnAComponentThatIsNeitherThereNorBeingBuiltIsHeldBack() async {
        var o = observed(for: base)
        o.resources["vpc"] = nil
        let p = Plan(deployment: "alpha", revision: "r1", region: "us-east-1", actions: [
            Action(key: "vpc", resourceKind: .vpc, kind: .noop, blocked: "cannot be identified", blockKind: .unidentified),
            Action(key: "igw", resourceKind: .internetGateway, kind: .create),
        ])
        let driver = MemoryDriver()
        let result = await Executor(driver: driver).apply(p, desired: base, observed: o)
        #expect(await driver.state.calls.isEmpty)
        #expect(result.outcomes.first { $0.step.key == "igw" }?.status == .blocked("held back: vpc is neither there nor being built"))
    }
}
