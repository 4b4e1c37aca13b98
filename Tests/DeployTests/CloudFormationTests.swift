import Foundation
import ReclawJSON
import ReclawTestSupport
import Testing

/// deploy/cloudformation/reclaw-host.yaml: valid for cfn-lint, and the host it makes is the one the
/// docs promise: reclaw's own policy, no inbound port, IMDSv2, an encrypted volume, the shipped unit.
@Suite struct CloudFormationTests {
    let template: JSONValue

    init() throws {
        template = try #require(try DeployFiles.yaml("deploy/cloudformation/reclaw-host.yaml").first)
    }

    func resource(_ name: String) -> JSONValue? { template.at("Resources.\(name).Properties") }

    @Test func cfnLintFindsNothingIncludingInformationalChecks() async throws {
        let r = try await Command.run(["cfn-lint", "--include-checks", "I", "--", RepoPaths.path("deploy/cloudformation/reclaw-host.yaml")])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test func theHostRunsWithReclawsPolicyExactly() throws {
        let shipped = try DeployFiles.json("deploy/iam/reclaw-policy.json")
        #expect(resource("ReclawPolicy")?["PolicyDocument"] == shipped, "the template's policy differs from deploy/iam/reclaw-policy.json")
        let managed = resource("HostRole")?["ManagedPolicyArns"]?.arrayValue ?? []
        #expect(managed.contains(["Ref": "ReclawPolicy"]))
    }

    @Test func theTemplateMakesTheShippedBoundaryAndHandsItToReclaw() throws {
        let shipped = try DeployFiles.json("deploy/iam/reclaw-instance-boundary.json")
        #expect(resource("InstanceBoundary")?["PolicyDocument"] == shipped, "the template's boundary differs from deploy/iam/reclaw-instance-boundary.json")
        // The name the shipped policy's iam:PermissionsBoundary condition asks for.
        #expect(resource("InstanceBoundary")?["ManagedPolicyName"] == "reclaw-instance-boundary")
        let script = try #require(resource("Host")?.at("UserData.Fn::Base64")?["Fn::Sub"]?.stringValue)
        #expect(script.contains("RECLAW_PERMISSIONS_BOUNDARY=${InstanceBoundary}\n"))
    }

    @Test func theHostHasNoInboundRuleRequiresIMDSv2AndEncryptsItsVolume() throws {
        let group = try #require(resource("HostSecurityGroup"))
        #expect(group["SecurityGroupIngress"] == nil)
        let types = template["Resources"]?.objectValue?.values.compactMap { $0["Type"]?.stringValue } ?? []
        #expect(types.contains("AWS::EC2::Instance") && !types.contains("AWS::EC2::SecurityGroupIngress"))
        let data = try #require(resource("HostLaunchTemplate")?["LaunchTemplateData"])
        #expect(data.at("MetadataOptions.HttpTokens") == "required")
        let volume = try #require(data["BlockDeviceMappings"]?.arrayValue?.first?["Ebs"])
        #expect(volume["Encrypted"] == "true" && volume["VolumeType"] == "gp3")
        #expect(resource("Host")?.at("LaunchTemplate.LaunchTemplateId") == ["Ref": "HostLaunchTemplate"])
        #expect(resource("Host")?["KeyName"] == nil)
    }

    @Test func theHostInstallsTheShippedUnitAndChecksTheBinarysDigest() throws {
        let script = try #require(resource("Host")?.at("UserData.Fn::Base64")?["Fn::Sub"]?.stringValue)
        // Fn::Sub leaves ${!NAME} as ${NAME}: the unit's own variables are escaped that way.
        let lines = script.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix("cat > /etc/systemd/system/reclaw.service <<'UNIT'") })
        let end = try #require(lines[start...].firstIndex(of: "UNIT"))
        let embedded = lines[(start + 1)..<end].joined(separator: "\n").replacingOccurrences(of: "${!", with: "${")
        let shipped = try DeployFiles.text("deploy/systemd/reclaw.service")
        #expect(embedded + "\n" == shipped, "the unit in the template differs from deploy/systemd/reclaw.service")
        #expect(script.contains("sha256sum -c"))
        #expect(script.contains("libgit2-1.5 libcurl4 libyaml-0-2"))
    }
}
