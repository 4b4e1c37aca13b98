import Testing
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec

@Suite struct DifferTests {
    let base = DesiredGraphBuilder.build(spec(), facts: facts)

    func changed(_ p: Plan) -> [String] { p.changes.map { "\($0.kind.symbol) \($0.key)" } }

    @Test func nothingObservedMeansCreateEverythingInDependencyOrder() {
        let p = plan(base, ObservedDeployment(deployment: "alpha"))
        #expect(p.count(.create) == base.components.count)
        #expect(p.summary == "Plan: 19 to add, 0 to change, 0 to replace, 0 to destroy.")
        let order = p.actions.map(\.key)
        for c in base.components { for d in c.dependsOn { #expect(order.firstIndex(of: d)! < order.firstIndex(of: c.key)!) } }
        let subnet = p.actions.first { $0.key == "public-subnet" }!
        #expect(subnet.changes.first { $0.attribute == "vpc" }?.knownAfterApply == true)
        let token = p.actions.first { $0.key == "param-gateway-token" }!
        #expect(token.changes.first { $0.attribute == "value" }.map { $0.sensitive && $0.after == nil } == true)
    }

    @Test func aPerfectMatchIsAnEmptyPlan() {
        let p = plan(base, observed(for: base))
        #expect(!p.hasChanges)
        #expect(p.summary == "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy.")
    }

    @Test func aModelChangeUpdatesTheParameterAndConvergesTheInstance() {
        let edited = DesiredGraphBuilder.build(spec { $0.openclaw.model = "us.amazon.nova-pro-v1:0" }, facts: facts)
        let p = plan(edited, observed(for: base))
        #expect(changed(p) == ["~ param-model", "~ instance"])
        let model = p.changes[0].changes.first!
        #expect(model.before == "global.amazon.nova-2-lite-v1:0" && model.after == "us.amazon.nova-pro-v1:0")
        #expect(p.changes[1].changes.map(\.attribute) == ["config"])
        #expect(p.count(.replace) == 0)
    }

    @Test func anInstanceTypeChangeIsAnUpdateNotAReplacement() {
        let p = plan(DesiredGraphBuilder.build(spec { $0.instance.type = "t4g.large" }, facts: facts), observed(for: base))
        #expect(changed(p) == ["~ instance"])
        #expect(p.changes[0].changes.map(\.attribute) == ["instanceType"])
    }

    @Test func openingSSHChangesOnlyTheIngressRules() {
        let p = plan(DesiredGraphBuilder.build(spec { $0.instance.sshCidr = "198.51.100.0/24" }, facts: facts), observed(for: base))
        #expect(changed(p) == ["~ instance-sg"])
        #expect(p.changes[0].changes.map(\.attribute) == ["ingress"])
    }

    @Test func droppingEndpointsDeletesThemAndTheirSecurityGroupDependentsFirst() {
        let p = plan(DesiredGraphBuilder.build(spec { $0.network.vpcEndpoints = [] }, facts: facts), observed(for: base))
        #expect(p.count(.delete) == 5)
        let keys = p.changes.map(\.key)
        #expect(keys.firstIndex(of: "endpoint-sg")! > keys.firstIndex(of: "endpoint-ssm")!)
    }

    @Test func aVpcCidrChangeIsABlockedReplacementWithoutAllowReplace() throws {
        let edited = DesiredGraphBuilder.build(spec { $0.network.vpcCidr = "10.9.0.0/16"; $0.network.publicSubnetCidr = "10.9.1.0/24"; $0.network.privateSubnetCidr = "10.9.2.0/24" }, facts: facts)
        let p = plan(edited, observed(for: base))
        let vpc = try #require(p.actions.first { $0.key == "vpc" })
        #expect(vpc.kind == .replace)
        #expect(vpc.blocked?.contains("policy.allowReplace: true") == true)
        #expect(p.blocked.map(\.key) == ["vpc", "public-subnet", "private-subnet"])
        #expect(!p.actions.contains { $0.key == "instance" && $0.kind == .replace })
    }

    @Test func withAllowReplaceTheReplacementCascadesToWhatLivesInTheVpc() {
        let edited = DesiredGraphBuilder.build(spec { $0.network.vpcCidr = "10.9.0.0/16"; $0.network.publicSubnetCidr = "10.9.1.0/24"; $0.network.privateSubnetCidr = "10.9.2.0/24"; $0.policy.allowReplace = true }, facts: facts)
        let p = plan(edited, observed(for: base), allowReplace: true)
        let replaced = Set(p.actions.filter { $0.kind == .replace }.map(\.key))
        #expect(replaced.isSuperset(of: ["vpc", "public-subnet", "private-subnet", "public-rt", "instance-sg", "endpoint-sg", "endpoint-ssm", "instance"]))
        #expect(!replaced.contains("role") && !replaced.contains("param-model"))
        #expect(p.blocked.isEmpty)
        #expect(p.actions.first { $0.key == "igw" }?.kind == .update)
    }

    @Test func anAmiChangeIsAReplacementButANewerAmiBehindTheParameterIsOnlyANote() {
        var o = observed(for: base)
        o.resources["instance"]![0].details = ["imageId": "ami-0aaaaaaaaaaaaaaaa", "latestImage": "ami-0bbbbbbbbbbbbbbbb"]
        let same = plan(base, o)
        #expect(!same.hasChanges)
        #expect(same.notes.first?.contains("ami-0bbbbbbbbbbbbbbbb") == true)
        let pinned = plan(DesiredGraphBuilder.build(spec { $0.instance.image = "ami-0bbbbbbbbbbbbbbbb" }, facts: facts), o)
        #expect(pinned.actions.first { $0.key == "instance" }?.blocked != nil)
    }

    @Test func aShrinkingRootVolumeIsBlocked() {
        let p = plan(DesiredGraphBuilder.build(spec { $0.instance.rootVolumeGiB = 20 }, facts: facts), observed(for: base))
        #expect(p.changes.first?.blocked?.contains("cannot shrink") == true)
        let grow = plan(DesiredGraphBuilder.build(spec { $0.instance.rootVolumeGiB = 50 }, facts: facts), observed(for: base))
        #expect(grow.changes.first?.blocked == nil && changed(grow) == ["~ instance"])
    }

    @Test func tagEditsAreInPlaceUpdatesOfEveryResource() {
        let p = plan(DesiredGraphBuilder.build(spec { $0.tags = ["Team": "ml"] }, facts: facts), observed(for: base))
        #expect(p.count(.update) == base.components.count)
        #expect(p.changes.allSatisfy { $0.changes.map(\.attribute) == ["tags.Team"] })
    }

    @Test func tagsAWSAddsItselfAreIgnored() {
        var o = observed(for: base)
        o.resources["vpc"]![0].tags["aws:cloudformation:stack-name"] = "x"
        #expect(!plan(base, o).hasChanges)
    }

    @Test func managedPolicyChangesUpdateTheRole() {
        let p = plan(DesiredGraphBuilder.build(spec { $0.iam.managedPolicies = ["AmazonSSMManagedInstanceCore"] }, facts: facts), observed(for: base))
        #expect(changed(p) == ["~ role"])
        #expect(p.changes[0].changes.map(\.attribute) == ["managedPolicies"])
    }

    @Test func driftIsReportedApartAndExplainsTheCorrection() {
        var o = observed(for: base)
        o.resources["instance-sg"]![0].attributes["ingress"] = [["protocol": "tcp", "fromPort": 22, "toPort": 22, "peer": "0.0.0.0/0"]]
        let p = plan(base, o, last: base)
        #expect(p.drift.map(\.attribute) == ["ingress"])
        #expect(p.drift[0].expected == [])
        #expect(changed(p) == ["~ instance-sg"])
        #expect(p.changes[0].reasons == ["drift: ingress was changed outside reclaw"])
    }

    @Test func aResourceDeletedOutsideReclawIsDriftAndIsRecreated() {
        var o = observed(for: base)
        o.resources["endpoint-ssm"] = nil
        let p = plan(base, o, last: base)
        #expect(p.drift.map(\.key) == ["endpoint-ssm"])
        #expect(changed(p) == ["+ endpoint-ssm"])
    }

    @Test func aRecreatedGatewayTokenConvergesTheInstance() {
        var o = observed(for: base)
        o.resources["param-gateway-token"] = nil
        #expect(changed(plan(base, o)) == ["+ param-gateway-token", "~ instance"])
    }

    @Test func destroyDeletesDependentsFirst() {
        let p = Differ.destroy(observed(for: base), schema: AWSSchema(), region: "us-east-1", revision: "r")
        let keys = p.actions.map(\.key)
        #expect(p.count(.delete) == 19)
        #expect(keys.firstIndex(of: "instance")! < keys.firstIndex(of: "public-rt")!)
        #expect(keys.firstIndex(of: "private-rt")! < keys.firstIndex(of: "private-subnet")!)
        #expect(keys.firstIndex(of: "vpc")! > keys.firstIndex(of: "public-subnet")!)
        #expect(keys.firstIndex(of: "role")! > keys.firstIndex(of: "instance-profile")!)
    }

    @Test func theRenderedPlanShowsSymbolsValuesAndTheCount() {
        let edited = DesiredGraphBuilder.build(spec { $0.openclaw.version = "2026.3.0" }, facts: facts)
        var o = observed(for: base)
        o.resources["endpoint-ssm"] = nil
        let text = PlanRenderer.text(plan(edited, o))
        #expect(text.contains("  ~ param-version (/openclaw/alpha/version)\n      value: \"2026.2.3\" → \"2026.3.0\""))
        #expect(text.contains("  + endpoint-ssm\n"))
        #expect(text.hasSuffix("Plan: 1 to add, 2 to change, 0 to replace, 0 to destroy."))
        let created = PlanRenderer.text(plan(base, ObservedDeployment(deployment: "alpha")))
        #expect(created.contains("value = (sensitive)"))
        #expect(created.contains("vpc = (known after apply)"))
    }

    @Test func securityPropertiesChangedByHandAreDriftCorrectedInPlace() {
        var o = observed(for: base)
        o.resources["vpc"]![0].attributes["enableDnsHostnames"] = false
        o.resources["instance"]![0].attributes["instanceProfile"] = "someone-elses"
        o.resources["private-subnet"]![0].attributes["internetGatewayRoutes"] = [["destination": "0.0.0.0/0", "gateway": "igw-1"]]
        o.resources["role"]![0].attributes["permissionsBoundary"] = .null
        let p = plan(base, o, last: base)
        #expect(p.drift.map { "\($0.key) \($0.attribute)" }.sorted() == ["instance instanceProfile", "private-subnet internetGatewayRoutes", "vpc enableDnsHostnames"])
        #expect(changed(p) == ["~ vpc", "~ private-subnet", "~ instance"])
        #expect(p.actions.allSatisfy { $0.blocked == nil })
        #expect(p.actions.first { $0.key == "instance" }?.reasons == ["drift: instanceProfile was changed outside reclaw"])
    }

    @Test func anUnencryptedRootVolumeIsABlockedReplacementNotAnUpdate() throws {
        var o = observed(for: base)
        o.resources["instance"]![0].attributes["rootVolumeEncrypted"] = false
        let p = plan(base, o, last: base)
        let instance = try #require(p.actions.first { $0.key == "instance" })
        #expect(instance.kind == .replace && instance.blocked?.contains("rootVolumeEncrypted") == true)
        #expect(p.drift.map(\.attribute) == ["rootVolumeEncrypted"])
    }
}
