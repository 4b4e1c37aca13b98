import Foundation
import ReclawTestSupport
import Testing

/// The plan/apply/destroy/drift commands, run as a user runs them.
@Suite struct PlanApplyCommandTests {
    let emulator = Emulator.shared

    struct Workspace {
        let dir = TemporaryDirectory("reclaw-cli")
        let name = uniqueName("cli")
        let region: String
        var env: [String: String]
        var specs: String { dir.file("specs") }

        init(emulator: Emulator, region: String, extra: String = "") {
            self.region = region
            env = emulator.environment
            env["RECLAW_STATE_DIR"] = dir.file("state")
            dir.write("specs/app.yaml", minimalSpec(name, region: region, extra: extra))
        }

        func reclaw(_ args: String...) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary] + args, environment: env)
        }
    }

    @Test func planApplyAndPlanAgainWithDetailedExitCodesAndJSON() async throws {
        let w = Workspace(emulator: emulator, region: "eu-central-2")
        let plan = try await w.reclaw("plan", "--detailed-exitcode", w.specs)
        #expect(plan.status == 2, "\(plan.stderr)")
        #expect(plan.stdout.contains("Plan for deployment \(w.name) in eu-central-2 (revision dir:"))
        #expect(plan.stdout.contains("Plan: 19 to add, 0 to change, 0 to replace, 0 to destroy."))
        let apply = try await w.reclaw("apply", "--auto-approve", "--detailed-exitcode", w.specs)
        #expect(apply.status == 2, "\(apply.stderr)")
        #expect(apply.stdout.contains("\(w.name): apply complete: 19 of 19 steps done."))
        let again = try await w.reclaw("plan", "--detailed-exitcode", w.specs)
        #expect(again.status == 0)
        #expect(again.stdout.contains("No changes. AWS matches the spec."))
        let json = try await w.reclaw("plan", "--json", w.specs)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["changes"] as? Bool == false)
        let first = try #require((doc["plans"] as? [[String: Any]])?.first)
        #expect(first["deployment"] as? String == w.name)
        #expect((first["summary"] as? [String: Any])?["add"] as? Int == 0)
        let audit = try String(contentsOfFile: w.dir.file("state/audit.log"), encoding: .utf8)
        #expect(audit.contains("\"eventName\":\"RunInstances\"") && audit.contains("\"eventType\":\"PlanComputed\""))
    }

    @Test func applyRefusesWithoutATerminalUnlessAutoApproved() async throws {
        let w = Workspace(emulator: emulator, region: "eu-central-2")
        let r = try await w.reclaw("apply", w.specs)
        #expect(r.status == 1)
        #expect(r.stderr.contains("refusing to apply: standard input is not a terminal; pass --auto-approve"))
        #expect(r.stdout.contains("Plan: 19 to add"))
    }

    @Test func invalidSpecsAreReportedWhileValidOnesArePlanned() async throws {
        let w = Workspace(emulator: emulator, region: "eu-central-2")
        w.dir.write("specs/broken.yaml", "apiVersion: reclaw.dev/v1alpha1\nkind: OpenClawDeployment\nmetadata: {name: broken}\nspec: {region: nowhere, openclaw: {version: '1'}}\n")
        let r = try await w.reclaw("plan", w.specs)
        #expect(r.status == 1)
        #expect(r.stderr.contains("broken.yaml:4:16: error: spec.region 'nowhere' is not an AWS region name"))
        #expect(r.stdout.contains("Plan for deployment \(w.name)"))
        let only = try await w.reclaw("plan", "--deployment", w.name, w.specs)
        #expect(only.status == 0)
        let unknown = try await w.reclaw("plan", "--deployment", "nope", w.specs)
        #expect(unknown.status == 1 && unknown.stderr.contains("no deployment named 'nope'"))
    }

    @Test func driftIsFoundAgainstTheLastApplyAndDestroyRemovesEverything() async throws {
        let w = Workspace(emulator: emulator, region: "eu-central-2")
        #expect(try await w.reclaw("apply", "--auto-approve", w.specs).status == 0)
        #expect(try await w.reclaw("drift", "--detailed-exitcode").status == 0)
        try await Command.check(["python3", "-c", """
        import boto3, sys
        ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id="x", aws_secret_access_key="x")
        sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [sys.argv[3]]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
        ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        """, emulator.url, w.region, w.name])
        let drift = try await w.reclaw("drift", "--detailed-exitcode")
        #expect(drift.status == 2)
        #expect(drift.stdout.contains("Drift since the last apply (changed outside reclaw):\n  ! instance-sg"))
        #expect(drift.stdout.contains("\"fromPort\":3389"))
        let destroy = try await w.reclaw("destroy", "--deployment", w.name, w.specs, "--auto-approve")
        #expect(destroy.status == 0, "\(destroy.stderr)")
        #expect(destroy.stdout.contains("Plan: 0 to add, 0 to change, 0 to replace, 19 to destroy."))
        let after = try await w.reclaw("plan", w.specs)
        #expect(after.stdout.contains("Plan: 19 to add"))
        let noRegion = try await w.reclaw("destroy", "--deployment", uniqueName("unknown"), "--auto-approve")
        #expect(noRegion.status == 1 && noRegion.stderr.contains("pass the source that holds its spec, or --region"))
    }

    @Test func applyWithNothingToChangeRecordsTheRevisionSoALostStateIsRebuilt() async throws {
        let w = Workspace(emulator: emulator, region: "eu-central-2")
        #expect(try await w.reclaw("apply", "--auto-approve", w.specs).status == 0)
        try FileManager.default.removeItem(atPath: w.dir.file("state/deployments"))
        #expect(try await w.reclaw("status").stdout.contains("No deployments"))

        let again = try await w.reclaw("apply", "--detailed-exitcode", w.specs)
        #expect(again.status == 0, "no changes, so no question and exit 0: \(again.stderr)")
        #expect(!again.stdout.contains("apply complete"))
        let status = try await w.reclaw("status")
        #expect(status.stdout.contains("\(w.name) (eu-central-2)\n  Ready: True (ReconciliationSucceeded)"), "\(status.stdout)")
        #expect(try await w.reclaw("drift", "--detailed-exitcode").status == 0)
    }

    @Test func commandsWorkAgainstSignatureCheckingAndThrottlingWithinTheRetryBudget() async throws {
        let strict = try Emulator.start()
        defer { strict.stop() }
        let key = try await Command.check(["python3", "-c", """
        import boto3, json, sys
        iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        iam.create_user(UserName="operator")
        iam.put_user_policy(UserName="operator", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        k = iam.create_access_key(UserName="operator")["AccessKey"]
        print(k["AccessKeyId"], k["SecretAccessKey"])
        """, strict.url]).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try await strict.setSignatureChecking(true)
        var w = Workspace(emulator: strict, region: "us-west-2")
        w.env["AWS_ACCESS_KEY_ID"] = key[0]
        w.env["AWS_SECRET_ACCESS_KEY"] = key[1]
        w.env["AWS_MAX_ATTEMPTS"] = "3"
        for operation in ["CreateVpc", "CreateSubnet", "RunInstances", "PutParameter", "CreateRole"] {
            try await strict.injectError(operation: operation, code: "Throttling", count: 2)
        }
        let apply = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        // Every throttled call was retried, and none went past three attempts.
        let requests = try await strict.requests()
        let faults = requests.filter { $0["outcome"] as? String == "fault" }
        #expect(faults.count == 10)
        #expect(!requests.contains { $0["errorCode"] as? String == "AuthFailure" || $0["errorCode"] as? String == "SignatureDoesNotMatch" })
        var wrong = w
        wrong.env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let refused = try await wrong.reclaw("plan", wrong.specs)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("AuthFailure") || refused.stderr.contains("SignatureDoesNotMatch"))
        #expect(!refused.stderr.contains("not-the-secret") && !refused.stdout.contains("not-the-secret"))
    }
}
