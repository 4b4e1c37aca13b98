import Foundation
import ReclawTestSupport
import Testing

/// A resource's identity is the id reclaw recorded, never its tags: a hand-launched copy carrying
/// the instance's tags is reported and left alone, and the instance reclaw made survives. Driven
/// through the real binary against the emulator, as an operator who restored a backup meets it.
@Suite struct LookAlikeTests {
    let emulator = Emulator.shared

    typealias Workspace = PlanApplyCommandTests.Workspace

    /// Runs boto3 against the emulator's EC2 in `region` with the deployment's name as `name`;
    /// `script` reads `ec2`, `name` and `args`, and prints its answer.
    func ec2(_ w: Workspace, _ script: String, _ args: String...) async throws -> String {
        try await Command.check(["python3", "-c", """
        import boto3, sys
        url, region, name, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        def reclaws(component):
            f = [{"Name": "tag:reclaw:deployment", "Values": [name]}, {"Name": "tag:reclaw:component", "Values": [component]}]
            return [i for r in ec2.describe_instances(Filters=f)["Reservations"] for i in r["Instances"]]
        \(script)
        """, emulator.url, w.region, w.name] + args).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops reclaw's instance and launches a copy carrying all its tags (IMDSv1, no profile), as
    /// "Launch more like this" would; returns (original, copy).
    func launchCopy(_ w: Workspace) async throws -> (String, String) {
        let out = try await ec2(w, """
        orig = reclaws("instance")[0]
        ec2.stop_instances(InstanceIds=[orig["InstanceId"]])
        tags = [t for t in orig["Tags"] if not t["Key"].startswith("aws:")]
        copy = ec2.run_instances(ImageId=orig["ImageId"], InstanceType=orig["InstanceType"], SubnetId=orig["SubnetId"], MinCount=1, MaxCount=1,
                                 MetadataOptions={"HttpTokens": "optional"}, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
        print(orig["InstanceId"], copy["Instances"][0]["InstanceId"])
        """).split(separator: " ").map(String.init)
        return (out[0], out[1])
    }

    func state(_ w: Workspace, _ id: String) async throws -> String {
        try await ec2(w, """
        print(ec2.describe_instances(InstanceIds=[args[0]])["Reservations"][0]["Instances"][0]["State"]["Name"])
        """, id)
    }

    @Test func aHandLaunchedCopyOfTheInstanceIsReportedAndTheInstanceReclawMadeSurvives() async throws {
        let w = Workspace(emulator: emulator, region: "eu-west-3", extra: "  policy: {drift: correct}")
        let first = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(first.status == 0, "\(first.stderr)")
        let (original, copy) = try await launchCopy(w)

        let plan = try await w.reclaw("plan", w.specs)
        #expect(plan.stdout.contains("? instance (\(copy)) # DuplicateResource: reclaw's instance is \(original)"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("- instance"), "\(plan.stdout)")

        let apply = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        #expect(try await state(w, original) == "stopped", "the instance reclaw made was touched")
        #expect(try await state(w, copy) == "running", "reclaw acted on a resource it did not record")
        #expect(!(try await emulator.mutatingCalls(deployment: w.name)).contains("TerminateInstances"))

        let drift = try await w.reclaw("drift", "--detailed-exitcode", w.specs)
        #expect(drift.status == 2, "\(drift.stderr)")
        #expect(drift.stdout.contains("! instance (\(copy))"), "\(drift.stdout)")

        // The daemon reports the look-alike once, as drift it leaves alone even under policy.drift: correct.
        let run = try await w.reclaw("run", "--source", w.specs, "--once")
        #expect(run.status == 2, "drift was not reported: \(run.stderr.suffix(3000))")
        let audit = (try? String(contentsOfFile: w.dir.file("state/audit.log"), encoding: .utf8)) ?? ""
        let detected = audit.split(separator: "\n").filter { $0.contains("\"eventType\":\"DriftDetected\"") && $0.contains(copy) }
        #expect(detected.count == 1 && detected.first?.contains("DuplicateResource") == true, "\(detected)")
        #expect(try await state(w, original) == "stopped")
        #expect(try await state(w, copy) == "running")
    }

    @Test func withNoRecordTwoInstancesCarryingTheTagsStallTheInstanceUntilTheExtraTagsGo() async throws {
        let w = Workspace(emulator: emulator, region: "ca-central-1")
        let first = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let (original, copy) = try await launchCopy(w)
        // A lost state directory: tags are all reclaw has left to find its resources by.
        try FileManager.default.removeItem(atPath: w.dir.file("state"))

        let apply = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(apply.status == 1, "an apply that could not identify the instance succeeded: \(apply.stdout)")
        #expect(apply.stdout.contains("instance: blocked, several resources carry the tags of instance (\([original, copy].sorted().joined(separator: ", ")))"),
                "\(apply.stdout)")
        #expect(try await state(w, original) == "stopped")
        #expect(try await state(w, copy) == "running")
        #expect(!(try await emulator.mutatingCalls(deployment: w.name)).contains("TerminateInstances"))
        let status = try await w.reclaw("status")
        #expect(status.stdout.contains("DuplicateResource"), "\(status.stdout)")

        // The operator takes reclaw's tags off the copy: the original is adopted, nothing is launched.
        let launchesBefore = try await emulator.mutatingCalls(deployment: w.name).filter { $0 == "RunInstances" }.count
        _ = try await ec2(w, """
        ec2.delete_tags(Resources=[args[0]], Tags=[{"Key": "reclaw:deployment"}, {"Key": "reclaw:component"}])
        print("ok")
        """, copy)
        let again = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        #expect(try await emulator.mutatingCalls(deployment: w.name).filter { $0 == "RunInstances" }.count == launchesBefore)
        let recorded = try String(contentsOfFile: w.dir.file("state/deployments/\(w.name).json"), encoding: .utf8)
        #expect(recorded.contains("\"instance\" : \"\(original)\""), "\(recorded)")
    }
}
