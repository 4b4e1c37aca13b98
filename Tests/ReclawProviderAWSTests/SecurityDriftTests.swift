import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawSpec
import ReclawTestSupport
import Testing

/// Each property that keeps one of the seed's security promises, changed by another identity with
/// boto3: the next check shows it as drift, an apply of that plan puts it back (what
/// `policy.drift: correct` does; `alert` stops at the drift), and the posture flips to "not held"
/// and back.
@Suite struct SecurityDriftTests {
    func drift(_ p: PlannedDeployment) -> [String] { p.plan.drift.map { "\($0.key) \($0.attribute)" }.sorted() }

    func posture(_ p: PlannedDeployment, _ id: String) -> PostureCheck.Status? {
        Posture.evaluate(desired: p.desired!, observed: p.observed).first { $0.id == id }?.status
    }

    func id(_ p: PlannedDeployment, _ key: ComponentKey) throws -> String { try #require(p.observed[key]?.id) }

    @Test func dnsHostnamesTurnedOffAreSeenOnTheSlowCadenceOrAtOnceWhenInvalidatedAndTurnedBackOn() async throws {
        let clock = ManualClock()
        let h = Harness(now: clock.now)
        let spec = testSpec("dns", region: "eu-west-3")
        try await h.apply(spec)
        // The attributes reclaw gave the VPC when it made it are cached: no read is needed.
        let clean = try await h.plan(spec)
        #expect(!clean.plan.hasChanges && posture(clean, "private-endpoints") == .held)
        #expect(clean.observed[Components.vpc]?.attributes["enableDnsHostnames"] == true)
        let vpc = try id(clean, Components.vpc)
        try await asSomeoneElse(h.emulator, """
        client("ec2", sys.argv[3]).modify_vpc_attribute(VpcId=sys.argv[2], EnableDnsHostnames={"Value": False})
        """, [vpc, spec.region])

        // Within the slow-read interval the cached value stands; an event (invalidation) reads it at once.
        #expect(drift(try await h.plan(spec)).isEmpty)
        await h.reconciler.invalidateSlowAttributes(resourceIDs: [vpc])
        let drifted = try await h.plan(spec)
        #expect(drift(drifted) == ["vpc enableDnsHostnames"])
        #expect(drifted.plan.changes.map { "\($0.kind.symbol) \($0.key)" } == ["~ vpc"])
        #expect(posture(drifted, "private-endpoints") == .notHeld)
        let result = try await h.reconciler.apply(drifted)
        #expect(result.converged, "\(result.report)")
        #expect(try await EC2Client(client: h.client, region: spec.region).vpcAttribute(vpc, "enableDnsHostnames"))
        // What the correction set is recorded: clean, and held again.
        let after = try await h.plan(spec)
        #expect(drift(after).isEmpty && !after.plan.hasChanges, "\(PlanRenderer.text(after.plan))")
        #expect(posture(after, "private-endpoints") == .held)

        // Without any event, the change is seen once the interval has passed.
        try await asSomeoneElse(h.emulator, """
        client("ec2", sys.argv[3]).modify_vpc_attribute(VpcId=sys.argv[2], EnableDnsHostnames={"Value": False})
        """, [vpc, spec.region])
        #expect(drift(try await h.plan(spec)).isEmpty)
        clock.advance(ProviderSettings.defaultSlowReadInterval.inSeconds + 1)
        let late = try await h.plan(spec)
        #expect(drift(late) == ["vpc enableDnsHostnames"])
        // Left alone (policy.drift: alert), it is read again on every check until it is gone.
        let reads = try await h.emulator.requests(operation: "DescribeVpcAttribute", region: spec.region).count
        #expect(drift(try await h.plan(spec)) == ["vpc enableDnsHostnames"])
        #expect(try await h.emulator.requests(operation: "DescribeVpcAttribute", region: spec.region).count == reads + 2)
    }

    @Test func anInstanceProfileSwappedByHandIsDriftAndIsPutBackWithoutReplacingTheInstance() async throws {
        let h = Harness()
        let spec = testSpec("profile", region: "eu-north-1")
        try await h.apply(spec)
        let before = try await h.plan(spec)
        let instance = try id(before, Components.instance)
        #expect(posture(before, "instance-profile-reclaws") == .held)
        try await asSomeoneElse(h.emulator, """
        iam = client("iam", "us-east-1")
        name = "other-" + sys.argv[-1]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        ec2 = client("ec2", sys.argv[3])
        a = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [sys.argv[2]]}])["IamInstanceProfileAssociations"][0]
        ec2.replace_iam_instance_profile_association(AssociationId=a["AssociationId"], IamInstanceProfile={"Name": name})
        """, [instance, spec.region])

        let drifted = try await h.plan(spec)
        #expect(drift(drifted) == ["instance instanceProfile"])
        let action = try #require(drifted.plan.changes.first)
        #expect(drifted.plan.changes.count == 1 && action.key == Components.instance && action.kind == .update)
        #expect(action.changes.first?.before?.stringValue?.hasPrefix("other-") == true && action.changes.first?.after == .string("reclaw-\(spec.name)-instance"))
        #expect(posture(drifted, "instance-profile-reclaws") == .notHeld)
        let result = try await h.reconciler.apply(drifted)
        #expect(result.converged, "\(result.report)")

        let now = try #require(try await EC2Client(client: h.client, region: spec.region).instances([("instance-id", [instance])]).first)
        #expect(now.instanceProfileArn?.hasSuffix("instance-profile/reclaw/reclaw-\(spec.name)-instance") == true)
        #expect(now.state == "running")
        let after = try await h.plan(spec)
        #expect(drift(after).isEmpty && !after.plan.hasChanges)
        #expect(try id(after, Components.instance) == instance, "the instance was replaced")
        #expect(posture(after, "instance-profile-reclaws") == .held)
    }

    @Test func aRouteToTheInternetAddedToThePrivateRouteTableIsDeleted() async throws {
        let h = Harness()
        let spec = testSpec("prt", region: "ca-central-1")
        try await h.apply(spec)
        let before = try await h.plan(spec)
        #expect(posture(before, "private-subnet-private") == .held)
        try await asSomeoneElse(h.emulator, """
        client("ec2", sys.argv[4]).create_route(RouteTableId=sys.argv[2], DestinationCidrBlock="0.0.0.0/0", GatewayId=sys.argv[3])
        """, [try id(before, Components.privateRouteTable), try id(before, Components.igw), spec.region])
        let drifted = try await h.plan(spec)
        #expect(drift(drifted) == ["private-rt routes", "private-subnet internetGatewayRoutes"])
        #expect(posture(drifted, "private-subnet-private") == .notHeld)
        #expect(try await h.reconciler.apply(drifted).converged)
        let after = try await h.plan(spec)
        #expect(drift(after).isEmpty && !after.plan.hasChanges, "\(PlanRenderer.text(after.plan))")
        #expect(posture(after, "private-subnet-private") == .held)
    }

    @Test func thePrivateSubnetLeftOnTheMainTableWithARouteToTheInternetIsMovedBack() async throws {
        let h = Harness()
        let spec = testSpec("main", region: "ca-central-1")
        try await h.apply(spec)
        let before = try await h.plan(spec)
        let subnet = try id(before, Components.privateSubnet)
        // Someone takes the subnet off private-rt (it falls back to the VPC's main table) and routes
        // the main table to the internet gateway.
        let main = try await asSomeoneElse(h.emulator, """
        ec2 = client("ec2", sys.argv[5])
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [sys.argv[2]]}])["RouteTables"]
        for t in tables:
            for a in t["Associations"]:
                if a.get("SubnetId") == sys.argv[3]:
                    ec2.disassociate_route_table(AssociationId=a["RouteTableAssociationId"])
        main = [t for t in tables if any(a.get("Main") for a in t["Associations"])][0]["RouteTableId"]
        ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=sys.argv[4])
        print(main)
        """, [try id(before, Components.vpc), subnet, try id(before, Components.igw), spec.region]).trimmingCharacters(in: .whitespacesAndNewlines)

        let drifted = try await h.plan(spec)
        #expect(drift(drifted) == ["private-rt subnets", "private-subnet internetGatewayRoutes"])
        #expect(drifted.observed[Components.privateSubnet]?.details["routeTable"] == .string(main))
        let evidence = Posture.evaluate(desired: drifted.desired!, observed: drifted.observed).first { $0.id == "private-subnet-private" }
        #expect(evidence?.status == .notHeld)
        #expect(evidence?.evidence.first?.contains("\(main) (the VPC's main table), routes 0.0.0.0/0 → igw-") == true, "\(evidence?.evidence ?? [])")
        #expect(try await h.reconciler.apply(drifted).converged)

        let after = try await h.plan(spec)
        #expect(drift(after).isEmpty && !after.plan.hasChanges, "\(PlanRenderer.text(after.plan))")
        #expect(after.observed[Components.privateSubnet]?.details["routeTable"] == .string(try id(after, Components.privateRouteTable)))
        #expect(posture(after, "private-subnet-private") == .held)
        // reclaw does not own the main table: its route stays, serving no subnet of reclaw's.
        let mainTable = try await EC2Client(client: h.client, region: spec.region).routeTables([("route-table-id", [main])]).first
        #expect(mainTable?.routes.contains { $0.destination == "0.0.0.0/0" } == true)
    }

    @Test func thePrivateSubnetMovedToAnotherTableIsMovedBack() async throws {
        let h = Harness()
        let spec = testSpec("moved", region: "ca-central-1")
        try await h.apply(spec)
        let before = try await h.plan(spec)
        try await asSomeoneElse(h.emulator, """
        ec2 = client("ec2", sys.argv[6])
        other = ec2.create_route_table(VpcId=sys.argv[2])["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=other, DestinationCidrBlock="0.0.0.0/0", GatewayId=sys.argv[5])
        t = ec2.describe_route_tables(RouteTableIds=[sys.argv[3]])["RouteTables"][0]
        a = [a for a in t["Associations"] if a.get("SubnetId") == sys.argv[4]][0]
        ec2.replace_route_table_association(AssociationId=a["RouteTableAssociationId"], RouteTableId=other)
        """, [try id(before, Components.vpc), try id(before, Components.privateRouteTable), try id(before, Components.privateSubnet),
              try id(before, Components.igw), spec.region])
        let drifted = try await h.plan(spec)
        #expect(drift(drifted) == ["private-rt subnets", "private-subnet internetGatewayRoutes"])
        #expect(posture(drifted, "private-subnet-private") == .notHeld)
        let result = try await h.reconciler.apply(drifted)
        #expect(result.converged, "\(result.report)")
        let after = try await h.plan(spec)
        #expect(drift(after).isEmpty && !after.plan.hasChanges, "\(PlanRenderer.text(after.plan))")
        #expect(posture(after, "private-subnet-private") == .held)
    }

    @Test func rolesCarryTheOperatorsBoundaryAndARemovedBoundaryIsPutBack() async throws {
        let policy = try await asSomeoneElse(Emulator.shared, """
        print(client("iam", "us-east-1").create_policy(PolicyName="reclaw-instance-boundary-" + sys.argv[-1], PolicyDocument=open(sys.argv[2]).read())["Policy"]["Arn"])
        """, [RepoPaths.path("deploy/iam/reclaw-instance-boundary.json")]).trimmingCharacters(in: .whitespacesAndNewlines)
        // A role made before the operator gave a boundary gets it on the next apply.
        let spec = testSpec("bound", region: "us-west-1")
        try await Harness().apply(spec)
        let h = Harness(settings: ProviderSettings(permissionsBoundary: policy))
        let first = try await h.plan(spec)
        #expect(first.plan.changes.map { "\($0.kind.symbol) \($0.key)" } == ["~ role"])
        #expect(first.plan.changes.first?.changes.map(\.attribute) == ["permissionsBoundary"])
        #expect(posture(first, "permissions-boundary") == .notHeld)
        #expect(try await h.reconciler.apply(first).converged)
        let role = "reclaw-\(spec.name)-instance"
        func boundary() async throws -> String? {
            try await IAMClient(client: h.client).roles(pathPrefix: "/reclaw/").first { $0.name == role }?.permissionsBoundary
        }
        #expect(try await boundary() == policy)

        try await asSomeoneElse(h.emulator, """
        client("iam", "us-east-1").delete_role_permissions_boundary(RoleName=sys.argv[2])
        """, [role])
        let drifted = try await h.plan(spec)
        #expect(drift(drifted) == ["role permissionsBoundary"])
        #expect(posture(drifted, "permissions-boundary") == .notHeld)
        #expect(try await h.reconciler.apply(drifted).converged)
        #expect(try await boundary() == policy)
        #expect(posture(try await h.plan(spec), "permissions-boundary") == .held)

        // A new deployment's role is created with it.
        let fresh = testSpec("bound", region: "us-west-1")
        let (_, result) = try await h.apply(fresh)
        #expect(result.converged, "\(result.report)")
        #expect(try await IAMClient(client: h.client).roles(pathPrefix: "/reclaw/").first { $0.name == "reclaw-\(fresh.name)-instance" }?.permissionsBoundary == policy)
        let create = try await h.emulator.requests(operation: "CreateRole", userAgent: "deployment/\(fresh.name);")
        #expect(create.count == 1)
    }
}
