import Foundation
import ReclawTestSupport
import Testing

/// Policy tools written for Terraform plans, run on what `reclaw plan --json` prints (checkov, the
/// conftest-style Rego policy of examples/policies), and `--policy-command` as the gate before
/// `run`, `apply` and `plan`. checkov and regopy come from scripts/setup.sh. Each test has its own
/// deployment and state directory, so they run side by side (checkov's runs are the suite's time).
@Suite struct PolicyGateTests {
    let emulator = Emulator.shared

    /// Where scripts/setup.sh installs checkov and regopy.
    static let tools = ProcessInfo.processInfo.environment["RECLAW_POLICY_TOOLS"]
        ?? (NSHomeDirectory() + "/.local/share/reclaw/policy-tools")
    static var checkov: String { tools + "/bin/checkov" }
    static var python: String { tools + "/bin/python" }

    /// The command line of the issue that asked for the gate, with checkov where setup.sh puts it.
    static func checkovCommand(_ checks: String) -> String {
        "'\(checkov)' -f \"$RECLAW_PLAN_JSON\" --framework terraform_plan --check \(checks) --quiet"
    }

    struct Workspace {
        let upstream: Upstream
        let dir = TemporaryDirectory("reclaw-policy")
        let name = uniqueName("pol")
        let region = "eu-north-1"
        var env: [String: String]

        init(emulator: Emulator) throws {
            upstream = try Upstream()
            env = emulator.environment
            env["RECLAW_STATE_DIR"] = dir.file("state")
        }

        func spec(ssh: Bool = false, model: String? = nil) -> String {
            let base = minimalSpec(name, region: region, extra: ssh ? "  instance: {sshCidr: 0.0.0.0/0}" : "")
            guard let model else { return base }
            return base.replacingOccurrences(of: "openclaw: {version: \"2026.2.3\"}", with: "openclaw: {version: \"2026.2.3\", model: \(model)}")
        }

        func plan(_ spec: String, _ args: String...) async throws -> CommandResult {
            dir.write("specs/app.yaml", spec)
            return try await Command.run([RepoPaths.reclawBinary, "plan"] + args + [dir.file("specs")], environment: env)
        }

        func run(_ extra: [String]) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary, "run", "--source", upstream.url, "--path", "deployments", "--once"] + extra, environment: env)
        }

        func status() async throws -> [String: Any] {
            let out = try await Command.check([RepoPaths.reclawBinary, "status", "--json"], environment: env)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
            return try #require(rows.first { $0["deployment"] as? String == name })
        }

        func ready(_ row: [String: Any]) -> [String: Any]? {
            (row["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == "Ready" }
        }

        /// The instance security group's ingress rules, as AWS has them.
        func ingress(_ emulator: Emulator) async throws -> String {
            try await Command.check(["python3", "-c", """
            import boto3, json, sys
            ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id="x", aws_secret_access_key="x")
            sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [sys.argv[3]]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
            print(json.dumps(sg["IpPermissions"]))
            """, emulator.url, region, name])
        }
    }

    /// checkov's results on a plan document: check id → passed.
    func checkov(_ document: String, checks: String, _ dir: TemporaryDirectory) async throws -> [String: Bool] {
        let file = dir.write("plan-\(UUID().uuidString).json", document)
        let r = try await Command.run([Self.checkov, "-f", file, "--framework", "terraform_plan", "--check", checks, "-o", "json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        let report = try #require((parsed as? [[String: Any]])?.first ?? parsed as? [String: Any], "checkov: \(r.stdout.prefix(2000)) \(r.stderr.suffix(2000))")
        let results = report["results"] as? [String: Any] ?? [:]
        var out: [String: Bool] = [:]
        for (key, passed) in [("failed_checks", false), ("passed_checks", true)] {
            for c in results[key] as? [[String: Any]] ?? [] {
                if let id = c["check_id"] as? String { out[id] = (out[id] ?? true) && passed }
            }
        }
        return out
    }

    /// The `deny` messages of examples/policies/reclaw.rego on a plan document, with regopy.
    func regoDenials(_ document: String, _ dir: TemporaryDirectory) async throws -> [String] {
        let file = dir.write("plan-\(UUID().uuidString).json", document)
        let out = try await Command.check([Self.python, "-c", """
        import json, sys
        from regopy import Interpreter
        rego = Interpreter()
        rego.add_module("reclaw", open(sys.argv[1]).read())
        rego.set_input_term(open(sys.argv[2]).read())
        result = json.loads(str(rego.query("x = data.main.deny")))
        print(json.dumps(sorted(result["bindings"]["x"]) if "bindings" in result else sorted(result["result"][0]["bindings"]["x"])))
        """, RepoPaths.path("examples/policies/reclaw.rego"), file])
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String])
    }

    @Test func checkovAndTheRegoPolicyReadPlanJSONAsItIs() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.checkov), "checkov is missing: run scripts/setup.sh")
        let w = try Workspace(emulator: emulator)
        let open = try await w.plan(w.spec(ssh: true), "--json")
        #expect(open.status == 0, "\(open.stderr.suffix(2000))")
        let openResults = try await checkov(open.stdout, checks: "CKV_AWS_24", w.dir)
        #expect(openResults["CKV_AWS_24"] == false, "\(openResults)")
        let denials = try await regoDenials(open.stdout, w.dir)
        #expect(denials == ["\(w.name).instance-sg opens SSH (port 22) to 0.0.0.0/0"], "\(denials)")

        let clean = try await w.plan(w.spec(), "--json")
        let cleanResults = try await checkov(clean.stdout, checks: "CKV_AWS_24,CKV_AWS_79,CKV_AWS_8", w.dir)
        #expect(cleanResults == ["CKV_AWS_24": true, "CKV_AWS_79": true, "CKV_AWS_8": true], "\(cleanResults)")
        #expect(try await regoDenials(clean.stdout, w.dir).isEmpty)
    }

    @Test func theExampleCheckovCommandLineDeniesAPlanThatOpensSSH() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.checkov), "checkov is missing: run scripts/setup.sh")
        let w = try Workspace(emulator: emulator)
        // The example command line, as the gate runs it.
        let example = "sh '\(RepoPaths.path("examples/policies/checkov.sh"))'"
        var env = w.env
        env["PATH"] = Self.tools + "/bin:" + (env["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        w.dir.write("specs/app.yaml", w.spec(ssh: true))
        let gated = try await Command.run([RepoPaths.reclawBinary, "plan", "--policy-command", example, w.dir.file("specs")], environment: env)
        #expect(gated.status == 1 && gated.stdout.contains("policy: \(w.name): denied (exit 1)") && gated.stdout.contains("CKV_AWS_24"), "\(gated.stdout.suffix(3000))")
    }

    /// Whether `pid` is a live process (an unreaped zombie has ended).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }

    @Test func planPrintsTheVerdictOfTheCommandItRanOnAPrivateCopyOfThePlan() async throws {
        let w = try Workspace(emulator: emulator)
        let allow = """
        [ "$(stat -c %a "$RECLAW_PLAN_JSON")" = 600 ] && [ "$(stat -c %a "$(dirname "$RECLAW_PLAN_JSON")")" = 700 ] \
        && [ "$RECLAW_DEPLOYMENT" = \(w.name) ] && [ -n "$RECLAW_REVISION" ] && grep -q '"aws_instance"' && grep -q aws_vpc "$RECLAW_PLAN_JSON"
        """
        let allowed = try await w.plan(w.spec(), "--policy-command", allow)
        #expect(allowed.status == 0 && allowed.stdout.contains("policy: \(w.name): allowed"), "\(allowed.stdout.suffix(1000)) \(allowed.stderr.suffix(1000))")
        let denied = try await w.plan(w.spec(), "--json", "--policy-command", "echo 'no: not on Fridays'; exit 3")
        #expect(denied.status == 1 && denied.stderr.contains("policy: \(w.name): denied (exit 3)") && denied.stderr.contains("no: not on Fridays"))
        #expect((try? JSONSerialization.jsonObject(with: Data(denied.stdout.utf8))) != nil, "standard output is still the plan document")
        var env = w.env
        // A command that would outlive the test: the plan's end proves reclaw stopped waiting, and the
        // command's pid gone proves it was ended, not left behind.
        let pidFile = w.dir.file("policy.pid")
        env["RECLAW_POLICY_COMMAND"] = "echo $$ > \(pidFile); exec sleep 600"
        w.dir.write("specs/app.yaml", w.spec())
        let late = try await Command.run([RepoPaths.reclawBinary, "plan", "--policy-timeout", "1s", w.dir.file("specs")], environment: env)
        #expect(late.status == 1 && late.stdout.contains("denied (no answer within 1s)"), "\(late.stdout.suffix(1000))")
        let pid = try #require(Int32(String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)), "the policy command never started")
        #expect(await waitUntil(30) { !Self.isRunning(pid) }, "the policy command \(pid) still runs")
    }

    @Test func runAppliesWhatThePolicyAllowsRefusesWhatItDeniesThenAppliesTheNextAllowedCommit() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.checkov), "checkov is missing: run scripts/setup.sh")
        let w = try Workspace(emulator: emulator)
        let receiver = try EchoServer()
        let gate = ["--policy-command", Self.checkovCommand("CKV_AWS_24"), "--alert-webhook", receiver.url + "/record"]

        let clean = try w.upstream.commit(["deployments/app.yaml": w.spec()])
        let first = try await w.run(gate)
        #expect(first.status == 2, "\(first.stderr.suffix(3000))")
        #expect(try await w.status()["lastAppliedRevision"] as? String == clean)

        let open = try w.upstream.commit(["deployments/app.yaml": w.spec(ssh: true)])
        let refused = try await w.run(gate)
        #expect(refused.status != 0 && refused.status != 2, "\(refused.stderr.suffix(3000))")
        #expect(try await w.ingress(emulator).trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "nothing in AWS changes")
        let row = try await w.status()
        #expect(row["lastAppliedRevision"] as? String == clean && row["lastAttemptedRevision"] as? String == open)
        let ready = try #require(w.ready(row))
        #expect(ready["status"] as? String == "False" && ready["reason"] as? String == "PolicyDenied")
        #expect((ready["message"] as? String)?.contains("CKV_AWS_24") == true, "\(ready)")
        let audit = try String(contentsOfFile: w.dir.file("state/audit.log"), encoding: .utf8)
        let denial = try #require(audit.split(separator: "\n").first { $0.contains("\"eventType\":\"PolicyDenied\"") })
        #expect(denial.contains(open) && denial.contains("CKV_AWS_24"))
        let alerts = try await receiver.records()
        #expect(alerts.components(separatedBy: "PolicyDenied").count > 1 && alerts.contains(w.name), "\(alerts.prefix(2000))")

        let next = try w.upstream.commit(["deployments/app.yaml": w.spec(model: "us.amazon.nova-pro-v1:0")])
        let applied = try await w.run(gate)
        #expect(applied.status == 2, "\(applied.stderr.suffix(3000))")
        let after = try await w.status()
        #expect(after["lastAppliedRevision"] as? String == next && w.ready(after)?["status"] as? String == "True")
    }

    @Test func applyWithADeniedPlanAppliesNothingAndSaysWhy() async throws {
        let w = try Workspace(emulator: emulator)
        w.dir.write("specs/app.yaml", w.spec())
        let r = try await Command.run([RepoPaths.reclawBinary, "apply", "--auto-approve", "--policy-command", "echo 'refused by the test policy'; exit 2",
                                       w.dir.file("specs")], environment: w.env)
        #expect(r.status == 1 && r.stdout.contains("policy: \(w.name): denied (exit 2)"), "\(r.stdout.suffix(2000)) \(r.stderr.suffix(2000))")
        let row = try await w.status()
        #expect(row["lastAppliedRevision"] == nil)
        #expect(w.ready(row)?["reason"] as? String == "PolicyDenied")
        #expect((w.ready(row)?["message"] as? String)?.contains("refused by the test policy") == true)
        let audit = try String(contentsOfFile: w.dir.file("state/audit.log"), encoding: .utf8)
        #expect(audit.contains("\"eventType\":\"PolicyDenied\"") && !audit.contains("\"eventType\":\"ActionApplied\""))
        let again = try await w.plan(w.spec())
        #expect(again.stdout.contains("Plan: 19 to add, 0 to change, 0 to replace, 0 to destroy."), "nothing was created")
    }

    @Test func aDeniedDriftCorrectionLeavesTheDriftAndAlertsIt() async throws {
        let w = try Workspace(emulator: emulator)
        let receiver = try EchoServer()
        let noCorrections = #"python3 -c 'import json, sys; sys.exit(1 if json.load(sys.stdin)["resource_drift"] else 0)'"#
        let gate = ["--policy-command", noCorrections, "--alert-webhook", receiver.url + "/record"]
        try w.upstream.commit(["deployments/app.yaml": w.spec()])
        let first = try await w.run(gate)
        #expect(first.status == 2, "\(first.stderr.suffix(3000))")
        try await Command.check(["python3", "-c", """
        import boto3, sys
        ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id="x", aws_secret_access_key="x")
        sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [sys.argv[3]]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
        ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        """, emulator.url, w.region, w.name])
        let second = try await w.run(gate)
        #expect(second.stderr.contains("the policy command refused the plan"), "\(second.stderr.suffix(3000))")
        #expect(try await w.ingress(emulator).contains("0.0.0.0/0"), "the drift stays")
        let alerts = try await receiver.records()
        #expect(alerts.contains("PolicyDenied") && alerts.contains("DriftDetected"), "\(alerts.prefix(3000))")
    }
}
