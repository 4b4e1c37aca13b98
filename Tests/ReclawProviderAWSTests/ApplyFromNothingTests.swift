import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawSpec
import ReclawTestSupport
import Testing

/// Apply from nothing and read AWS back (not reclaw's own state) for every property docs/contracts.md lists for its components.
@Suite struct ApplyFromNothingTests {
    @Test func everyComponentIsCreatedWithEveryPropertyAndASecondPlanIsEmpty() async throws {
        let h = Harness()
        let region = "us-east-2"
        let spec = testSpec("seed", region: region) { $0.tags = ["CostCenter": "42"] }
        let (planned, result) = try await h.apply(spec)
        #expect(planned.plan.count(.create) == 19)
        #expect(result.converged, "\(result.report)")

        let ec2 = EC2Client(client: h.client, region: region)
        let mine: EC2Client.Filter = ("tag:reclaw:deployment", [spec.name])
        let vpc = try #require(try await ec2.vpcs([mine]).first)
        #expect(vpc.cidrBlock == "10.0.0.0/16")
        #expect(vpc.tags == ["reclaw:deployment": spec.name, "reclaw:component": "vpc", "Name": "\(spec.name)-vpc", "CostCenter": "42"])
        let subnets = try await ec2.subnets([mine])
        let pub = try #require(subnets.first { $0.tags["reclaw:component"] == "public-subnet" })
        let priv = try #require(subnets.first { $0.tags["reclaw:component"] == "private-subnet" })
        #expect(pub.cidrBlock == "10.0.1.0/24" && pub.mapPublicIpOnLaunch && pub.availabilityZone == "us-east-2a" && pub.vpcId == vpc.id)
        #expect(priv.cidrBlock == "10.0.2.0/24" && !priv.mapPublicIpOnLaunch && priv.availabilityZone == "us-east-2a")
        let igw = try #require(try await ec2.internetGateways([mine]).first)
        #expect(igw.attachedVpcs == [vpc.id])
        #expect(try await ec2.vpcAttribute(vpc.id, "enableDnsSupport"))
        #expect(try await ec2.vpcAttribute(vpc.id, "enableDnsHostnames"))
        let tables = try await ec2.routeTables([mine])
        let rt = try #require(tables.first { $0.tags["reclaw:component"] == "public-rt" })
        #expect(rt.routes.contains { $0.destination == "0.0.0.0/0" && $0.gatewayId == igw.id })
        #expect(rt.associations.compactMap(\.subnetId) == [pub.id])
        // The private subnet has a table of its own with nothing but the local route.
        let privateRT = try #require(tables.first { $0.tags["reclaw:component"] == "private-rt" })
        #expect(privateRT.routes.map(\.gatewayId) == ["local"])
        #expect(privateRT.associations.compactMap(\.subnetId) == [priv.id])
        let groups = try await ec2.securityGroups([mine])
        let instanceSG = try #require(groups.first { $0.tags["reclaw:component"] == "instance-sg" })
        let endpointSG = try #require(groups.first { $0.tags["reclaw:component"] == "endpoint-sg" })
        #expect(instanceSG.ingress.isEmpty)
        #expect(instanceSG.egress == [EC2.Rule(protocolName: "-1", fromPort: nil, toPort: nil, peer: "0.0.0.0/0")])
        #expect(endpointSG.ingress == [EC2.Rule(protocolName: "tcp", fromPort: 443, toPort: 443, peer: instanceSG.id)])
        let endpoints = try await ec2.vpcEndpoints([mine])
        #expect(Set(endpoints.map(\.serviceName)) == Set(["bedrock-runtime", "ssm", "ssmmessages", "ec2messages"].map { "com.amazonaws.\(region).\($0)" }))
        for e in endpoints {
            #expect(e.type.lowercased() == "interface" && e.privateDnsEnabled && e.subnetIds == [priv.id] && e.groupIds == [endpointSG.id])
        }
        let instance = try #require(try await ec2.instances([mine]).first)
        #expect(instance.type == "t4g.medium" && instance.state == "running" && instance.subnetId == pub.id)
        #expect(instance.securityGroupIds == [instanceSG.id])
        #expect(instance.httpTokens == "required")
        #expect(instance.instanceProfileArn?.hasSuffix("instance-profile/reclaw/reclaw-\(spec.name)-instance") == true)
        #expect(instance.keyName == nil)
        #expect(instance.imageId == (try await h.emulator.currentAMI(region: region, architecture: "arm64")))
        let volume = try #require(try await ec2.volumes([("attachment.instance-id", [instance.id])]).first)
        #expect(volume.size == 30 && volume.type == "gp3" && volume.encrypted)

        let role = try #require(try await IAMClient(client: h.client).roles(pathPrefix: "/reclaw/").first { $0.name == "reclaw-\(spec.name)-instance" })
        #expect(Set(role.managedPolicyArns) == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"])
        #expect(role.inlinePolicies.keys.sorted() == ["bedrock", "marketplace", "ssm-parameters"])
        #expect(role.instanceProfiles == ["reclaw-\(spec.name)-instance"])
        let ssmStatement = role.inlinePolicies["ssm-parameters"]?["Statement"]?.arrayValue?.first
        #expect(ssmStatement?["Resource"]?.description.contains("arn:aws:ssm:\(region):123456789012:parameter/openclaw/\(spec.name)/*") == true)

        let ssm = SSMClient(client: h.client, region: region)
        let params = Dictionary(uniqueKeysWithValues: try await ssm.parameters(["gateway-token", "model", "version", "gateway-port"].map { "/openclaw/\(spec.name)/\($0)" }).map { ($0.name, $0) })
        #expect(params["/openclaw/\(spec.name)/gateway-token"]?.type == "SecureString")
        #expect(params["/openclaw/\(spec.name)/model"]?.value == "global.amazon.nova-2-lite-v1:0")
        #expect(params["/openclaw/\(spec.name)/version"]?.value == "2026.2.3")
        #expect(params["/openclaw/\(spec.name)/gateway-port"]?.value == "18789")
        let token = try await h.client.json(.ssm, "GetParameter", region: region, ["Name": .string("/openclaw/\(spec.name)/gateway-token"), "WithDecryption": true])
        let tokenValue = try #require(token["Parameter"]?["Value"]?.stringValue)
        #expect(tokenValue.count == 48 && tokenValue.allSatisfy(\.isHexDigit))

        let second = try await h.plan(spec, revision: "r2")
        #expect(!second.plan.hasChanges, "\(PlanRenderer.text(second.plan))")
        #expect(second.plan.drift.isEmpty)
        let text = try String(contentsOfFile: h.dir.file("audit.log"), encoding: .utf8)
        #expect(!text.contains(tokenValue))
    }
}
