import Foundation
import ReclawTestSupport
import Testing

/// `plan --json` and `drift --json` as tools written for `terraform show -json` read them, checked
/// against docs/plan-json.schema.json; and `plan` and `drift` as read-only as they say they are.
@Suite struct PlanJSONCommandTests {
    let emulator = Emulator.shared

    struct Workspace {
        let dir = TemporaryDirectory("reclaw-json")
        let name = uniqueName("json")
        let region = "sa-east-1"
        var env: [String: String]
        var specs: String { dir.file("specs") }
        var auditLog: String { dir.file("state/audit.log") }

        init(emulator: Emulator) {
            env = emulator.environment
            env["RECLAW_STATE_DIR"] = dir.file("state")
            write()
        }

        func write(extra: String = "") {
            dir.write("specs/app.yaml", minimalSpec(name, region: region, extra: extra))
        }

        func reclaw(_ args: String...) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary] + args, environment: env)
        }

        /// Opens tcp/22 to the world on the instance's security group, by hand.
        func openSSH(_ emulator: Emulator) async throws {
            try await Command.check(["python3", "-c", """
            import boto3, sys
            ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id="x", aws_secret_access_key="x")
            sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [sys.argv[3]]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
            ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            """, emulator.url, region, name])
        }
    }

    /// The document, after checking it against the schema with Python's jsonschema.
    func validated(_ r: CommandResult, _ dir: TemporaryDirectory) async throws -> [String: Any] {
        let file = dir.write("doc-\(UUID().uuidString).json", r.stdout)
        let check = try await Command.run(["python3", "-c", """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft7Validator.check_schema(schema)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(json.load(open(sys.argv[2]))), key=lambda e: list(e.path))
        for e in errors[:20]: print("/".join(map(str, e.path)), e.message[:300])
        sys.exit(1 if errors else 0)
        """, RepoPaths.path("docs/plan-json.schema.json"), file])
        #expect(check.status == 0, "not valid against docs/plan-json.schema.json:\n\(check.stdout)\(check.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    func changes(_ doc: [String: Any], _ key: String = "resource_changes") -> [String: [String: Any]] {
        Dictionary(((doc[key] as? [[String: Any]]) ?? []).map { ($0["address"] as? String ?? "", $0) }) { a, _ in a }
    }

    func change(_ entry: [String: Any]?) -> [String: Any] { entry?["change"] as? [String: Any] ?? [:] }

    @Test func planAndDriftJSONFollowTerraformsLayoutAndTheSchema() async throws {
        let w = Workspace(emulator: emulator)
        let n = w.name

        // Nothing exists yet: 19 creations with whole `after` objects and their masks.
        let created = try await validated(try await w.reclaw("plan", "--json", w.specs), w.dir)
        #expect(created["format_version"] as? String == "2.0" && created["terraform_version"] is String)
        #expect((created["reclaw_version"] as? String)?.isEmpty == false)
        let first = changes(created)
        #expect(first.count == 19)
        #expect(first.values.allSatisfy { (change($0)["actions"] as? [String]) == ["create"] && change($0)["before"] is NSNull })
        let vpc = try #require(first["\(n).vpc"])
        #expect(vpc["type"] as? String == "aws_vpc" && vpc["name"] as? String == "vpc" && vpc["deployment"] as? String == n && vpc["component"] as? String == "vpc")
        #expect((change(vpc)["after"] as? [String: Any])?["cidr_block"] as? String == "10.0.0.0/16")
        // Every planned resource in planned_values, in the provider's words; nothing exists yet.
        let plannedValues = ((created["planned_values"] as? [String: Any])?["root_module"] as? [String: Any])?["resources"] as? [[String: Any]] ?? []
        #expect(plannedValues.count == 19)
        let instance = try #require(plannedValues.first { $0["type"] as? String == "aws_instance" }?["values"] as? [String: Any])
        #expect((instance["metadata_options"] as? [[String: Any]])?.first?["http_tokens"] as? String == "required")
        #expect((instance["root_block_device"] as? [[String: Any]])?.first?["encrypted"] as? Bool == true)
        let subnet = change(first["\(n).public-subnet"])
        #expect((subnet["after_unknown"] as? [String: Any])?["vpc_id"] as? Bool == true)
        #expect((subnet["after_unknown"] as? [String: Any])?["id"] as? Bool == true)
        let token = change(first["\(n).param-gateway-token"])
        #expect((token["after_sensitive"] as? [String: Any])?["value"] as? Bool == true)
        #expect((token["after"] as? [String: Any])?["value"] == nil)
        #expect(created["changes"] as? Bool == true && created["applyable"] as? Bool == true)

        #expect(try await w.reclaw("apply", "--auto-approve", w.specs).status == 0)
        let converged = try await validated(try await w.reclaw("plan", "--json", w.specs), w.dir)
        let noop = changes(converged)
        #expect(noop.values.allSatisfy { (change($0)["actions"] as? [String]) == ["no-op"] })
        let vpcNow = change(noop["\(n).vpc"])
        #expect(((vpcNow["before"] as? [String: Any])?["id"] as? String)?.hasPrefix("vpc-") == true)
        let (b, a) = (vpcNow["before"] as? NSDictionary ?? [:], vpcNow["after"] as? NSDictionary ?? [:])
        #expect(b.isEqual(a), "a no-op's before and after differ: \(b) against \(a)")

        // A blocked replacement, a deletion, and drift, all at once.
        try await w.openSSH(emulator)
        w.write(extra: "  network: {vpcCidr: 10.1.0.0/16, publicSubnetCidr: 10.1.1.0/24, privateSubnetCidr: 10.1.2.0/24, vpcEndpoints: [ssm, ssmmessages, ec2messages]}")
        let edited = try await validated(try await w.reclaw("plan", "--json", w.specs), w.dir)
        let planned = changes(edited)
        let replaced = try #require(planned["\(n).vpc"])
        #expect(change(replaced)["actions"] as? [String] == ["delete", "create"])
        #expect(change(replaced)["replace_paths"] as? [[String]] == [["cidr_block"]])
        #expect(replaced["action_reason"] as? String == "replace_because_cannot_update")
        #expect((replaced["blocked"] as? String)?.contains("allowReplace") == true)
        let dropped = try #require(planned["\(n).endpoint-bedrock-runtime"])
        #expect(change(dropped)["actions"] as? [String] == ["delete"] && change(dropped)["after"] is NSNull)
        #expect(dropped["action_reason"] as? String == "delete_because_no_resource_config")
        #expect(edited["applyable"] as? Bool == false)
        let drifted = try #require(changes(edited, "resource_drift")["\(n).instance-sg"])
        #expect(change(drifted)["actions"] as? [String] == ["update"])
        let before = (change(drifted)["before"] as? [String: Any])?["ingress"] as? [Any]
        let after = (change(drifted)["after"] as? [String: Any])?["ingress"] as? [[String: Any]]
        #expect(before?.isEmpty == true)
        #expect(after?.contains { $0["from_port"] as? Int == 22 && $0["cidr_blocks"] as? [String] == ["0.0.0.0/0"] && $0["protocol"] as? String == "tcp" } == true)
        let entry = try #require((edited["plans"] as? [[String: Any]])?.first)
        #expect((entry["summary"] as? [String: Any])?["blocked"] as? Int ?? 0 >= 1)
        let item = try #require((entry["drift"] as? [[String: Any]])?.first { $0["attribute"] as? String == "ingress" })
        #expect(item["before"] != nil && item["after"] != nil && item["expected"] != nil && item["actual"] != nil)

        // drift --json: the same layout; the drift in resource_drift, the correction in resource_changes.
        w.write()
        let drift = try await w.reclaw("drift", "--json", "--detailed-exitcode")
        #expect(drift.status == 2, "\(drift.stderr)")
        let report = try await validated(drift, w.dir)
        #expect(report["format_version"] as? String == "2.0" && report["drift"] as? Bool == true)
        let same = try #require(changes(report, "resource_drift")["\(n).instance-sg"])
        #expect((change(same)["after"] as? [String: Any])?["ingress"] as? [[String: Any]] != nil)
        #expect(change(changes(report)["\(n).instance-sg"])["actions"] as? [String] == ["update"])
        let finding = try #require((report["plans"] as? [[String: Any]])?.first)
        #expect((finding["diff"] as? [String: Any])?["instance-sg.ingress"] != nil)
        #expect(["attributed", "pending", "unavailable"].contains(finding["attributionStatus"] as? String ?? ""))
    }

    @Test func planAndDriftLeaveTheAuditLogUntouchedUnlessOneIsNamed() async throws {
        let w = Workspace(emulator: emulator)
        #expect(try await w.reclaw("apply", "--auto-approve", w.specs).status == 0)
        try await w.openSSH(emulator)
        let before = try Data(contentsOf: URL(fileURLWithPath: w.auditLog))
        for args in [["plan", w.specs], ["plan", "--json", w.specs], ["plan", "--log-level", "debug", w.specs],
                     ["drift"], ["drift", "--json"], ["drift", "--log-level", "debug"], ["drift", w.specs],
                     ["posture", "--log-level", "debug"], ["status"]] {
            let r = try await Command.run([RepoPaths.reclawBinary] + args, environment: w.env)
            #expect(r.status != 1 || args[0] == "posture", "\(args): \(r.stderr.suffix(1000))")
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: w.auditLog))
        #expect(after == before, "read-only commands wrote \(after.count - before.count) bytes to the audit log")
        let files = try FileManager.default.contentsOfDirectory(atPath: w.dir.file("state")).filter { $0.hasPrefix("audit.log") }
        #expect(files == ["audit.log"])

        // Asked for, they record what they found, in the log named.
        let asked = w.dir.file("checks.log")
        #expect(try await w.reclaw("drift", "--audit-log", asked).status == 0)
        #expect(try await w.reclaw("plan", "--audit-log", asked, w.specs).status == 0)
        let recorded = try String(contentsOfFile: asked, encoding: .utf8)
        #expect(recorded.contains("\"eventType\":\"DriftDetected\"") && recorded.contains("\"eventType\":\"PlanComputed\""))
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.auditLog)) == before)
    }
}
