import Foundation
import ReclawAWS
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawSpec
import ReclawState
import ReclawTestSupport
import Testing

@Suite struct LifecycleTests {
    func python(_ script: String, _ args: [String], _ emulator: Emulator) throws -> String {
        try Command.check(["python3", "-c", """
        import boto3, json, sys
        def client(service, region):
            return boto3.client(service, endpoint_url=sys.argv[1], region_name=region, aws_access_key_id="AKIDSOMEONEELSE", aws_secret_access_key="x")
        \(script)
        """, emulator.url] + args)
    }

    @Test func anOutOfBandChangeAppearsAsDriftAndIsCorrected() async throws {
        let h = Harness()
        let spec = testSpec("drift", region: "sa-east-1")
        try await h.apply(spec)
        let sg = try #require(try await EC2Client(client: h.client, region: spec.region).securityGroups([("tag:reclaw:deployment", [spec.name])])
            .first { $0.tags["reclaw:component"] == "instance-sg" })
        try python("""
        client("ec2", sys.argv[3]).authorize_security_group_ingress(GroupId=sys.argv[2], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        """, [sg.id, spec.region], h.emulator)
        let planned = try await h.plan(spec, revision: "r1")
        #expect(planned.plan.drift.map { "\($0.key) \($0.attribute)" } == ["instance-sg ingress"])
        #expect(planned.plan.drift[0].actual == [["protocol": "tcp", "fromPort": 22, "toPort": 22, "peer": "0.0.0.0/0"]])
        #expect(planned.plan.changes.map(\.key) == ["instance-sg"])
        #expect(planned.plan.changes[0].reasons == ["drift: ingress was changed outside reclaw"])
        #expect(PlanRenderer.text(planned.plan).contains("Drift since the last apply (changed outside reclaw):\n  ! instance-sg (\(sg.id))"))
        #expect(try await h.reconciler.apply(planned).converged)
        let after = try await h.plan(spec)
        #expect(after.plan.drift.isEmpty && !after.plan.hasChanges)
    }

    @Test func destroyLeavesNothingTaggedBehind() async throws {
        let h = Harness()
        let spec = testSpec("gone", region: "eu-south-1")
        try await h.apply(spec)
        let destroy = try await h.reconciler.destroyPlan(deployment: spec.name, region: spec.region, roleArn: nil, revision: "destroy")
        #expect(destroy.plan.count(.delete) == 19, "\(PlanRenderer.text(destroy.plan))")
        let result = try await h.reconciler.apply(destroy)
        #expect(result.converged, "\(result.report)")
        let ec2 = EC2Client(client: h.client, region: spec.region)
        let mine: EC2Client.Filter = ("tag:reclaw:deployment", [spec.name])
        #expect(try await ec2.vpcs([mine]).isEmpty)
        #expect(try await ec2.subnets([mine]).isEmpty)
        #expect(try await ec2.internetGateways([mine]).isEmpty)
        #expect(try await ec2.routeTables([mine]).isEmpty)
        #expect(try await ec2.securityGroups([mine]).isEmpty)
        #expect(try await ec2.vpcEndpoints([mine]).allSatisfy { $0.state == "deleted" })
        #expect(try await ec2.instances([mine]).allSatisfy { $0.state == "terminated" })
        #expect(try await IAMClient(client: h.client).roles(pathPrefix: "/reclaw/").filter { $0.tags["reclaw:deployment"] == spec.name }.isEmpty)
        #expect(try await IAMClient(client: h.client).instanceProfiles(pathPrefix: "/reclaw/").filter { $0.name == "reclaw-\(spec.name)-instance" }.isEmpty)
        let params = try await TaggingClient(client: h.client, region: spec.region).resources(type: "ssm:parameter", tagKey: "reclaw:deployment")
        #expect(params.filter { $0.tags["reclaw:deployment"] == spec.name }.isEmpty)
        #expect(try h.reconciler.state.load(spec.name) == nil)
    }

    @Test func anInjectedFailureMidApplyStopsOnlyItsDependentsAndTheNextApplyConverges() async throws {
        let h = Harness(maxAttempts: 1)
        let spec = testSpec("fail", region: "me-south-1")
        let agent = "deployment/\(spec.name)"
        // Both route tables (public and private) fail their creation.
        try await h.emulator.injectError(userAgent: agent, operation: "CreateRouteTable", code: "InvalidParameter", status: 400, count: 2)
        try await h.emulator.injectError(userAgent: agent, operation: "CreateVpcEndpoint", code: "InvalidParameter", status: 400, count: 1)
        let (_, first) = try await h.apply(spec)
        #expect(!first.converged)
        let failed = Set(first.failed.map(\.step.key))
        #expect(failed.isSuperset(of: ["public-rt", "private-rt"]))
        #expect(failed.filter { $0.hasPrefix("endpoint-") }.count == 1)
        let failure = try #require(first.failed.first { $0.step.key == "public-rt" })
        if case let .failed(_, code, requestID) = failure.status {
            #expect(code == "InvalidParameter" && requestID != nil)
        }
        #expect(first.outcomes.first { $0.step.key == "instance" }.map { if case .skipped = $0.status { return true }; return false } == true)
        #expect(try h.reconciler.state.load(spec.name)?.condition(.ready)?.status == .false)
        let (second, result) = try await h.apply(spec, revision: "r2")
        #expect(Set(second.plan.changes.map(\.key)).isSuperset(of: ["public-rt", "private-rt", "instance"]))
        #expect(result.converged, "\(result.report)")
        #expect(!(try await h.plan(spec)).plan.hasChanges)
        #expect(try h.reconciler.state.load(spec.name)?.condition(.ready)?.status == .true)
    }

    @Test func aResourceWithoutReclawsTagIsNeverAdoptedOrTouched() async throws {
        let h = Harness()
        let spec = testSpec("owned", region: "af-south-1")
        // Someone else's parameter at the deployment's path, without reclaw's tag.
        let name = "/openclaw/\(spec.name)/model"
        _ = try await SSMClient(client: h.client, region: spec.region).putParameter(name: name, value: "theirs", type: "String", overwrite: false, tags: [:])
        let (_, result) = try await h.apply(spec)
        let failure = try #require(result.failed.first { $0.step.key == "param-model" })
        if case let .failed(message, code, _) = failure.status {
            #expect(code == "NotOwned" && message.contains("not managed by reclaw"))
        }
        #expect(try await SSMClient(client: h.client, region: spec.region).parameters([name]).first?.value == "theirs")
    }

    @Test func aLookAlikeVpcCarryingTheDeploymentsTagsIsReportedAndNeverDeleted() async throws {
        let h = Harness()
        let spec = testSpec("dup", region: "ap-south-2")
        try await h.apply(spec)
        // A second, identically tagged VPC, as anyone with ec2:CreateTags can make.
        let tags = ["reclaw:deployment": spec.name, "reclaw:component": "vpc", "Name": "\(spec.name)-vpc"]
        let extra = try await EC2Client(client: h.client, region: spec.region).createVpc(cidr: "10.0.0.0/16", tags: tags)
        let planned = try await h.plan(spec)
        #expect(planned.plan.changes.isEmpty, "\(planned.plan.changes)")
        #expect(planned.plan.lookAlikes.map(\.resourceID) == [extra])
        #expect(planned.observed["vpc"]?.id != extra)
        #expect(try await h.reconciler.apply(planned).converged)
        #expect(try await EC2Client(client: h.client, region: spec.region).vpcs([("tag:reclaw:deployment", [spec.name])]).count == 2)
    }

    @Test func theGatewayTokenIsNeverOverwrittenAndIsRecreatedOnlyWhenGone() async throws {
        let h = Harness()
        let spec = testSpec("token", region: "ap-southeast-3")
        try await h.apply(spec)
        let name = "/openclaw/\(spec.name)/gateway-token"
        func token() async throws -> String? {
            try await h.client.json(.ssm, "GetParameter", region: spec.region, ["Name": .string(name), "WithDecryption": true])["Parameter"]?["Value"]?.stringValue
        }
        let first = try await token()
        try await h.apply(spec, revision: "r2")
        #expect(try await token() == first)
        try await SSMClient(client: h.client, region: spec.region).deleteParameters([name])
        let planned = try await h.plan(spec)
        #expect(planned.plan.changes.map { "\($0.kind.symbol) \($0.key)" } == ["+ param-gateway-token", "~ instance"])
        #expect(try await h.reconciler.apply(planned).converged)
        let second = try await token()
        #expect(second != nil && second != first && second?.count == 48)
    }
}
