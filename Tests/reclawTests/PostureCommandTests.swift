import Foundation
import ReclawTestSupport
import Testing

/// `reclaw posture`, and the drift it shows handled by `reclaw run --once`, run as a user runs them:
/// two deployments, one with `policy.drift: alert` and one with `correct`, whose promises someone
/// else breaks by hand.
@Suite struct PostureCommandTests {
    let emulator = Emulator.shared

    /// Turns DNS hostnames off, swaps the instance's profile, and leaves the private subnet on the
    /// VPC's main table with a route to the internet gateway: with another IAM user's key.
    func breakPromises(_ name: String, region: String) async throws {
        _ = try await Command.check(["python3", "-c", """
        import boto3, json, sys
        url, name, region, user = sys.argv[1:5]
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        iam.create_user(UserName=user)
        k = iam.create_access_key(UserName=user)["AccessKey"]
        kw = dict(endpoint_url=url, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
        ec2 = boto3.client("ec2", region_name=region, **kw)
        mine = [{"Name": "tag:reclaw:deployment", "Values": [name]}]
        vpc = ec2.describe_vpcs(Filters=mine)["Vpcs"][0]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": False})
        subnet = [s for s in ec2.describe_subnets(Filters=mine)["Subnets"] if {"Key": "reclaw:component", "Value": "private-subnet"} in s["Tags"]][0]["SubnetId"]
        igw = ec2.describe_internet_gateways(Filters=mine)["InternetGateways"][0]["InternetGatewayId"]
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        for t in tables:
            for a in t["Associations"]:
                if a.get("SubnetId") == subnet: ec2.disassociate_route_table(AssociationId=a["RouteTableAssociationId"])
        main = [t for t in tables if any(a.get("Main") for a in t["Associations"])][0]["RouteTableId"]
        ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        iam2 = boto3.client("iam", region_name="us-east-1", **kw)
        iam2.create_role(RoleName=user, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        iam2.create_instance_profile(InstanceProfileName=user)
        iam2.add_role_to_instance_profile(InstanceProfileName=user, RoleName=user)
        instance = ec2.describe_instances(Filters=mine + [{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"][0]["Instances"][0]["InstanceId"]
        a = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [instance]}])["IamInstanceProfileAssociations"][0]
        ec2.replace_iam_instance_profile_association(AssociationId=a["AssociationId"], IamInstanceProfile={"Name": user})
        """, emulator.url, name, region, uniqueName("intruder")])
    }

    @Test func postureFlipsToNotHeldAndBackAndRunAlertsOrCorrectsTheDrift() async throws {
        let dir = TemporaryDirectory("reclaw-posture")
        let region = "ap-northeast-2"
        let watched = uniqueName("watched"), fixed = uniqueName("fixed")
        dir.write("specs/watched.yaml", minimalSpec(watched, region: region, extra: "  policy: {drift: alert}"))
        dir.write("specs/fixed.yaml", minimalSpec(fixed, region: region))
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        // Slow reads every second: each command below sees the VPCs' DNS attributes as they are.
        func reclaw(_ args: String...) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary] + args + ["--slow-read-interval", "1s"], environment: env)
        }
        let applied = try await reclaw("apply", "--auto-approve", dir.file("specs"))
        #expect(applied.status == 0, "\(applied.stdout.suffix(2000))\(applied.stderr.suffix(2000))")

        let held = try await reclaw("posture")
        #expect(held.status == 0, "\(held.stdout)\(held.stderr.suffix(2000))")
        #expect(held.stdout.contains("\(watched): every promise holds.") && held.stdout.contains("\(fixed): every promise holds."), "\(held.stdout)")
        #expect(held.stdout.contains("  held      No inbound rule: instance-sg sg-"))
        #expect(held.stdout.contains("  n/a       The role carries the operator's permissions boundary: reclaw runs without --permissions-boundary"))

        try await breakPromises(watched, region: region)
        try await breakPromises(fixed, region: region)
        let broken = try await reclaw("posture", "--json")
        #expect(broken.status == 2, "\(broken.stderr.suffix(2000))")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(broken.stdout.utf8)) as? [String: Any])
        let deployments = try #require(doc["deployments"] as? [[String: Any]])
        #expect(Set(deployments.compactMap { $0["deployment"] as? String }) == [watched, fixed])
        for d in deployments {
            #expect(d["held"] as? Bool == false)
            let statuses = Dictionary(uniqueKeysWithValues: (d["promises"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0["status"] as? String ?? "") })
            #expect(statuses["private-endpoints"] == "notHeld" && statuses["private-subnet-private"] == "notHeld" && statuses["instance-profile-reclaws"] == "notHeld", "\(statuses)")
            #expect(statuses["no-inbound-rule"] == "held" && statuses["imdsv2-required"] == "held" && statuses["encrypted-root-volume"] == "held", "\(statuses)")
        }
        let text = try await reclaw("posture", "--deployment", watched, dir.file("specs"))
        #expect(text.status == 2)
        #expect(text.stdout.contains("  NOT HELD  The private subnet is private: private-subnet subnet-"), "\(text.stdout)")
        #expect(text.stdout.contains("(the VPC's main table), routes 0.0.0.0/0 → igw-"), "\(text.stdout)")
        #expect(text.stdout.contains("DNS hostnames off"), "\(text.stdout)")
        #expect(text.stdout.contains("\(watched): 3 of 10 promises not held."), "\(text.stdout)")

        let drift = try await reclaw("drift", "--detailed-exitcode")
        #expect(drift.status == 2, "\(drift.stderr.suffix(2000))")

        // One daemon pass: the alert deployment is alerted, the other corrected.
        let pass = try await reclaw("run", "--once", "--source", dir.file("specs"))
        #expect(pass.status == 2, "\(pass.stderr.suffix(3000))")
        let events = try String(contentsOfFile: dir.file("state/audit.log"), encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        func diffKeys(_ type: String, _ name: String) -> Set<String> {
            Set(events.filter { $0["eventType"] as? String == type && $0["deployment"] as? String == name }
                .flatMap { (($0["diff"] as? [String: Any]) ?? [:]).keys })
        }
        let expected: Set<String> = ["vpc.enableDnsHostnames", "instance.instanceProfile", "private-subnet.internetGatewayRoutes", "private-rt.subnets"]
        #expect(diffKeys("DriftDetected", watched).isSuperset(of: expected), "\(diffKeys("DriftDetected", watched))")
        #expect(diffKeys("DriftCorrected", watched).isEmpty)
        #expect(diffKeys("DriftCorrected", fixed).isSuperset(of: expected), "\(diffKeys("DriftCorrected", fixed))")

        let afterFixed = try await reclaw("posture", "--deployment", fixed, dir.file("specs"))
        #expect(afterFixed.status == 0, "\(afterFixed.stdout)")
        let afterWatched = try await reclaw("posture", "--deployment", watched, dir.file("specs"))
        #expect(afterWatched.status == 2, "alert-only drift was corrected: \(afterWatched.stdout)")
    }

    @Test func aBadPermissionsBoundaryIsAUsageError() async throws {
        var env = emulator.environment
        env["RECLAW_PERMISSIONS_BOUNDARY"] = "AdministratorAccess"
        let r = try await Command.run([RepoPaths.reclawBinary, "posture"], environment: env)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("$RECLAW_PERMISSIONS_BOUNDARY takes a managed policy ARN"), "\(r.stderr)")
        let flag = try await Command.run([RepoPaths.reclawBinary, "plan", "--permissions-boundary", "arn:aws:iam::aws:role/x"], environment: emulator.environment)
        #expect(flag.status == 64 && flag.stderr.contains("--permissions-boundary takes a managed policy ARN"), "\(flag.stderr)")
    }
}
