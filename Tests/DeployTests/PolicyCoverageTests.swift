import Foundation
import ReclawAWS
import ReclawTestSupport
import Testing

/// What reclaw actually calls, counted at the emulator, is what the shipped policy grants.
@Suite struct PolicyCoverageTests {
    let emulator = Emulator.shared

    @Test func aDeploymentsWholeLifeCallsNothingThePolicyDoesNotGrant() async throws {
        let policy = try DeployFiles.json("deploy/iam/reclaw-policy.json")
        let granted = Set((policy["Statement"]?.arrayValue ?? []).flatMap { $0["Action"]?.strings ?? [] })
        let dir = TemporaryDirectory("reclaw-policy")
        let name = uniqueName("policy")
        let region = "ap-northeast-3"
        let key = "AKIDPOLICY" + String(UUID().uuidString.filter(\.isHexDigit).prefix(10)).uppercased()
        var env = emulator.environment
        env["AWS_ACCESS_KEY_ID"] = key
        env["RECLAW_STATE_DIR"] = dir.file("state")
        let specs = dir.file("specs")
        func reclaw(_ args: [String]) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary] + args, environment: env)
        }
        func applied(_ spec: String) async throws {
            dir.write("specs/app.yaml", """
            apiVersion: reclaw.dev/v1alpha1
            kind: OpenClawDeployment
            metadata: {name: \(name)}
            spec:
              region: \(region)
            \(spec)
            """)
            let r = try await reclaw(["apply", "--auto-approve", specs])
            #expect(r.status == 0, "\(r.stdout.suffix(2000))\(r.stderr.suffix(2000))")
        }

        try await applied("  openclaw: {version: \"2026.2.3\"}")
        // Every kind of in-place update: the model (parameters, then Run Command), the instance
        // type (stop, modify, start), the root volume, an SSH rule and tags, then all undone.
        try await applied("""
          openclaw: {version: "2026.2.4", model: "global.anthropic.claude-sonnet-4-5-20250929-v1:0"}
          instance: {type: t4g.large, rootVolumeGiB: 40, sshCidr: 203.0.113.0/24}
          network: {vpcEndpoints: [ssm, ssmmessages, ec2messages]}
          iam: {managedPolicies: [AmazonSSMManagedInstanceCore]}
          tags: {CostCenter: "42"}
        """)
        try await applied("""
          openclaw: {version: "2026.2.3"}
          instance: {rootVolumeGiB: 40}
        """)
        #expect(try await reclaw(["drift", specs]).status == 0)
        #expect(try await reclaw(["audit", "correlate", "--since", "1h"]).status == 0)
        let destroyed = try await reclaw(["destroy", "--deployment", name, "--auto-approve", specs])
        #expect(destroyed.status == 0, "\(destroyed.stderr.suffix(2000))")

        let calls = try await emulator.requests().filter { $0["accessKeyId"] as? String == key }
        let actions = Set(calls.compactMap { call -> String? in
            guard let service = (call["service"] as? String).flatMap(AWSService.init(rawValue:)), let operation = call["operation"] as? String else { return nil }
            return AWSOperations.iamAction(service, operation)
        })
        #expect(actions.count == Set(calls.map { "\($0["service"] ?? "")/\($0["operation"] ?? "")" }).count, "a call of an unknown service")
        #expect(actions.subtracting(granted).isEmpty, "called without a grant: \(actions.subtracting(granted).sorted())")
        // The life above reaches every kind of call: reads, creates, updates, Run Command, deletes, CloudTrail.
        for expected in ["ec2:RunInstances", "ec2:ModifyInstanceAttribute", "ec2:ModifyVolume", "ec2:AuthorizeSecurityGroupIngress",
                         "ec2:RevokeSecurityGroupIngress", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteVpcEndpoints",
                         "ssm:SendCommand", "ssm:GetCommandInvocation", "iam:DetachRolePolicy",
                         "ec2:TerminateInstances", "iam:DeleteRole", "ssm:DeleteParameters", "cloudtrail:LookupEvents"] {
            #expect(actions.contains(expected), "\(expected) was never called")
        }
        let unexercised = granted.subtracting(actions).subtracting(AWSOperations.impliedActions.values.flatMap { $0 })
        print("policy actions this life did not need: \(unexercised.sorted())")
    }
}
