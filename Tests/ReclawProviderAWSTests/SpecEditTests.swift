import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawSpec
import ReclawTestSupport
import Testing

/// Each kind of spec edit gives exactly the expected plan, the apply converges (a second plan is
/// empty), and AWS, read back directly, shows the change.
@Suite struct SpecEditTests {
    /// Applies `spec`, then `edit`; checks the edit's plan and that it converges; returns the edited spec.
    @discardableResult
    func edit(_ h: Harness, _ spec: DeploymentSpec, expect expected: [String], _ change: (inout DeploymentSpec) -> Void) async throws -> (DeploymentSpec, PlannedDeployment) {
        var edited = spec
        change(&edited)
        let planned = try await h.plan(edited, revision: "r-edit")
        #expect(planned.plan.changes.map { "\($0.kind.symbol) \($0.key)" } == expected, "\(PlanRenderer.text(planned.plan))")
        let result = try await h.reconciler.apply(planned)
        #expect(result.converged, "\(result.report)")
        let again = try await h.plan(edited, revision: "r-again")
        #expect(!again.plan.hasChanges, "\(PlanRenderer.text(again.plan))")
        return (edited, planned)
    }

    func base(_ region: String, _ tweak: (inout DeploymentSpec) -> Void = { _ in }) async throws -> (Harness, DeploymentSpec) {
        let h = Harness()
        let spec = testSpec("edit", region: region, tweak)
        let (_, result) = try await h.apply(spec)
        #expect(result.converged, "\(result.report)")
        return (h, spec)
    }

    func mine(_ spec: DeploymentSpec) -> EC2Client.Filter { ("tag:reclaw:deployment", [spec.name]) }
    /// Instances not terminated (the emulator keeps terminated ones listed, as AWS does for an hour).
    let live: EC2Client.Filter = ("instance-state-name", ["pending", "running", "stopping", "stopped"])

    @Test func openClawSettingsUpdateTheParametersAndConvergeTheInstanceInPlace() async throws {
        let (h, spec) = try await base("eu-west-2")
        let ec2 = EC2Client(client: h.client, region: spec.region)
        let before = try #require(try await ec2.instances([mine(spec)]).first)
        let (edited, _) = try await edit(h, spec, expect: ["~ param-model", "~ param-version", "~ param-gateway-port", "~ instance"]) {
            $0.openclaw.model = "us.amazon.nova-pro-v1:0"
            $0.openclaw.version = "2026.3.1"
            $0.openclaw.gatewayPort = 18800
        }
        let after = try #require(try await ec2.instances([mine(spec)]).first)
        #expect(after.id == before.id, "no configuration change replaces the instance")
        #expect(after.tags[DesiredGraphBuilder.configTag] == DesiredGraphBuilder.configDigest(edited))
        let values = try await SSMClient(client: h.client, region: spec.region).parameters(["model", "version", "gateway-port"].map { "/openclaw/\(spec.name)/\($0)" })
        #expect(Set(values.compactMap(\.value)) == ["us.amazon.nova-pro-v1:0", "2026.3.1", "18800"])
        let sent = try await h.emulator.requests(operation: "SendCommand", userAgent: "deployment/\(spec.name);")
        #expect(sent.count == 1)
    }

    @Test func anInstanceTypeChangeStopsModifiesAndStarts() async throws {
        let (h, spec) = try await base("eu-west-3")
        try await edit(h, spec, expect: ["~ instance"]) { $0.instance.type = "t4g.large" }
        let instance = try #require(try await EC2Client(client: h.client, region: spec.region).instances([mine(spec)]).first)
        #expect(instance.type == "t4g.large" && instance.state == "running")
        let calls = try await h.emulator.requests(userAgent: "deployment/\(spec.name);").compactMap { $0["operation"] as? String }
        let stop = try #require(calls.firstIndex(of: "StopInstances")), modify = try #require(calls.firstIndex(of: "ModifyInstanceAttribute"))
        let start = try #require(calls.firstIndex(of: "StartInstances"))
        #expect(stop < modify && modify < start)
    }

    @Test func theRootVolumeGrowsInPlace() async throws {
        let (h, spec) = try await base("eu-central-1")
        try await edit(h, spec, expect: ["~ instance"]) { $0.instance.rootVolumeGiB = 64 }
        let ec2 = EC2Client(client: h.client, region: spec.region)
        let instance = try #require(try await ec2.instances([mine(spec)]).first)
        #expect(try await ec2.volumes([("attachment.instance-id", [instance.id])]).first?.size == 64)
    }

    @Test func sshIsOpenedAndClosedByRuleDifference() async throws {
        let (h, spec) = try await base("eu-north-1")
        let (opened, _) = try await edit(h, spec, expect: ["~ instance-sg"]) { $0.instance.sshCidr = "198.51.100.0/24" }
        let ec2 = EC2Client(client: h.client, region: spec.region)
        let group = { () async throws -> EC2.SecurityGroup in try #require(try await ec2.securityGroups([self.mine(spec)]).first { $0.tags["reclaw:component"] == "instance-sg" }) }
        #expect(try await group().ingress == [EC2.Rule(protocolName: "tcp", fromPort: 22, toPort: 22, peer: "198.51.100.0/24")])
        try await edit(h, opened, expect: ["~ instance-sg"]) { $0.instance.sshCidr = nil }
        #expect(try await group().ingress.isEmpty)
    }

    @Test func endpointsAreRemovedAndAddedBack() async throws {
        let (h, spec) = try await base("ap-southeast-1")
        let (none, _) = try await edit(h, spec, expect: ["- endpoint-ssmmessages", "- endpoint-ssm", "- endpoint-ec2messages", "- endpoint-bedrock-runtime", "- endpoint-sg"]) {
            $0.network.vpcEndpoints = []
        }
        let ec2 = EC2Client(client: h.client, region: spec.region)
        #expect(try await ec2.vpcEndpoints([mine(spec)]).allSatisfy { $0.state == "deleted" })
        #expect(try await ec2.securityGroups([mine(spec)]).map { $0.tags["reclaw:component"] } == ["instance-sg"])
        try await edit(h, none, expect: ["+ endpoint-sg", "+ endpoint-bedrock-runtime"]) { $0.network.vpcEndpoints = ["bedrock-runtime"] }
    }

    @Test func iamEditsAttachDetachPutAndDeletePolicies() async throws {
        let (h, spec) = try await base("ap-southeast-2")
        try await edit(h, spec, expect: ["~ role"]) {
            $0.iam.managedPolicies = ["AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/ReadOnlyAccess"]
            $0.iam.marketplaceSubscribe = false
        }
        let role = try #require(try await IAMClient(client: h.client).roles(pathPrefix: "/reclaw/").first { $0.name == "reclaw-\(spec.name)-instance" })
        #expect(Set(role.managedPolicyArns) == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/ReadOnlyAccess"])
        #expect(role.inlinePolicies.keys.sorted() == ["bedrock", "ssm-parameters"])
    }

    @Test func tagEditsReachEveryResource() async throws {
        let (h, spec) = try await base("ap-northeast-1") { $0.tags = ["Old": "x"] }
        let (_, planned) = try await edit(h, spec, expect: (try await h.plan(spec)).plan.actions.map { "~ \($0.key)" }) { $0.tags = ["Team": "ml"] }
        #expect(planned.plan.changes.allSatisfy { Set($0.changes.map(\.attribute)) == ["tags.Old", "tags.Team"] })
        let vpc = try #require(try await EC2Client(client: h.client, region: spec.region).vpcs([mine(spec)]).first)
        #expect(vpc.tags["Team"] == "ml" && vpc.tags["Old"] == nil)
        let role = try #require(try await IAMClient(client: h.client).roles(pathPrefix: "/reclaw/").first { $0.name == "reclaw-\(spec.name)-instance" })
        #expect(role.tags["Team"] == "ml" && role.tags["Old"] == nil)
    }

    @Test func aVpcCidrChangeIsRefusedWithoutAllowReplaceAndReplacedWithIt() async throws {
        let (h, spec) = try await base("ap-northeast-2")
        var moved = spec
        moved.network.vpcCidr = "10.50.0.0/16"
        moved.network.publicSubnetCidr = "10.50.1.0/24"
        moved.network.privateSubnetCidr = "10.50.2.0/24"
        let refused = try await h.plan(moved)
        #expect(refused.plan.blocked.map(\.key) == ["vpc", "public-subnet", "private-subnet"])
        let result = try await h.reconciler.apply(refused)
        #expect(!result.converged)
        #expect(result.problems.allSatisfy { if case .blocked = $0.status { return true }; return false })
        let ec2 = EC2Client(client: h.client, region: spec.region)
        #expect(try await ec2.vpcs([mine(spec)]).map(\.cidrBlock) == ["10.0.0.0/16"])
        moved.policy.allowReplace = true
        let replaced = try await h.plan(moved)
        #expect(replaced.plan.blocked.isEmpty && replaced.plan.count(.replace) >= 8)
        let applied = try await h.reconciler.apply(replaced)
        #expect(applied.converged, "\(applied.report)")
        #expect(try await ec2.vpcs([mine(spec)]).map(\.cidrBlock) == ["10.50.0.0/16"])
        #expect(try await ec2.instances([mine(spec), live]).count == 1)
        #expect(!(try await h.plan(moved)).plan.hasChanges)
    }

    @Test func anAmiChangeReplacesTheInstanceOnlyWithAllowReplace() async throws {
        let (h, spec) = try await base("ca-central-1")
        let newer = try await h.emulator.rotateAMI(region: spec.region)
        let noted = try await h.plan(spec)
        #expect(!noted.plan.hasChanges && noted.plan.notes.first?.contains(newer) == true)
        try await edit(h, spec, expect: ["-/+ instance"]) {
            $0.instance.image = newer
            $0.policy.allowReplace = true
        }
        let instances = try await EC2Client(client: h.client, region: spec.region).instances([mine(spec), live])
        #expect(instances.map(\.imageId) == [newer])
    }
}
