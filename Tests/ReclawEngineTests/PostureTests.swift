import Testing
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec

/// The seed's security promises checked against observations made by hand: each broken property
/// flips its own promise, with evidence naming what was seen.
@Suite struct PostureTests {
    let base = DesiredGraphBuilder.build(spec(), facts: facts)

    func statuses(_ desired: DesiredGraph, _ o: ObservedDeployment) -> [String: PostureCheck.Status] {
        Dictionary(uniqueKeysWithValues: Posture.evaluate(desired: desired, observed: o).map { ($0.id, $0.status) })
    }

    func edited(_ key: ComponentKey, _ edit: (inout ObservedResource) -> Void) -> ObservedDeployment {
        var o = observed(for: base)
        edit(&o.resources[key]![0])
        return o
    }

    @Test func aDeploymentAsTheSeedWritesItHoldsEveryPromise() {
        let checks = Posture.evaluate(desired: base, observed: observed(for: base))
        #expect(checks.map(\.id) == ["no-inbound-rule", "imdsv2-required", "encrypted-root-volume", "private-endpoints", "private-subnet-private",
                                     "role-policies-exact", "called-via-last", "ssm-parameters-prefix", "instance-profile-reclaws", "permissions-boundary"])
        for c in checks where c.id != "permissions-boundary" { #expect(c.status == .held, "\(c.id): \(c.evidence)") }
        #expect(checks.last?.status == .notApplicable)
        #expect(Posture.holds(checks))
        #expect(checks.allSatisfy { !$0.evidence.isEmpty })
    }

    @Test(arguments: [
        ("instance-sg", "ingress", JSONValue.array([["protocol": "tcp", "fromPort": 22, "toPort": 22, "peer": "0.0.0.0/0"]]), "no-inbound-rule"),
        ("instance", "securityGroups", ["sg-someone-elses", "securityGroup-instance-sg"], "no-inbound-rule"),
        ("instance", "httpTokens", "optional", "imdsv2-required"),
        ("instance", "rootVolumeEncrypted", false, "encrypted-root-volume"),
        ("vpc", "enableDnsHostnames", false, "private-endpoints"),
        ("vpc", "enableDnsSupport", .null, "private-endpoints"),
        ("endpoint-ssm", "privateDns", false, "private-endpoints"),
        ("private-subnet", "internetGatewayRoutes", [["destination": "0.0.0.0/0", "gateway": "igw-1"]], "private-subnet-private"),
        ("private-subnet", "mapPublicIpOnLaunch", true, "private-subnet-private"),
        ("role", "managedPolicies", ["arn:aws:iam::aws:policy/AdministratorAccess"], "role-policies-exact"),
        ("instance", "instanceProfile", "someone-elses-profile", "instance-profile-reclaws"),
        ("instance", "instanceProfile", .null, "instance-profile-reclaws"),
    ] as [(String, String, JSONValue, String)])
    func eachBrokenPropertyFlipsItsOwnPromise(key: String, attribute: String, value: JSONValue, promise: String) {
        let o = edited(key) { $0.attributes[attribute] = value }
        let s = statuses(base, o)
        #expect(s[promise] == .notHeld)
        #expect(s.filter { $0.value == .notHeld }.keys.sorted() == [promise], "\(s)")
    }

    @Test func widenedInlinePoliciesBreakTheirPromisesWithEvidence() throws {
        let o = edited("role") { role in
            var inline = role.attributes["inlinePolicies"]!.objectValue!
            inline["marketplace"] = Policies.canonical(["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Action": "aws-marketplace:Subscribe", "Resource": "*"]]])
            inline["ssm-parameters"] = Policies.canonical(["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"]]])
            role.attributes["inlinePolicies"] = .object(inline)
        }
        let checks = Dictionary(uniqueKeysWithValues: Posture.evaluate(desired: base, observed: o).map { ($0.id, $0) })
        #expect(checks["role-policies-exact"]?.status == .notHeld)
        #expect(checks["role-policies-exact"]?.evidence.contains("inline marketplace differs from the seed's") == true)
        #expect(checks["called-via-last"]?.status == .notHeld)
        #expect(checks["called-via-last"]?.evidence == ["inline marketplace grants aws-marketplace:Subscribe without the aws:CalledViaLast = bedrock.amazonaws.com condition"])
        #expect(checks["ssm-parameters-prefix"]?.status == .notHeld)
        #expect(checks["ssm-parameters-prefix"]?.evidence == ["inline ssm-parameters grants ssm:GetParameter on *"])
    }

    @Test func missingResourcesAreNotHeldAndAbsentEndpointsAreNotApplicable() {
        var o = observed(for: base)
        o.resources["instance"] = nil
        let s = statuses(base, o)
        for id in ["no-inbound-rule", "imdsv2-required", "encrypted-root-volume", "instance-profile-reclaws"] { #expect(s[id] == .notHeld, "\(id)") }
        let none = DesiredGraphBuilder.build(spec { $0.network.vpcEndpoints = [] }, facts: facts)
        #expect(statuses(none, observed(for: none))["private-endpoints"] == .notApplicable)
        let noMarket = DesiredGraphBuilder.build(spec { $0.iam.marketplaceSubscribe = false }, facts: facts)
        #expect(statuses(noMarket, observed(for: noMarket))["called-via-last"] == .notApplicable)
    }

    @Test func theBoundaryPromiseHoldsOnlyWithTheOperatorsBoundary() {
        let arn = "arn:aws:iam::111122223333:policy/reclaw-instance-boundary"
        let bounded = DesiredGraphBuilder.build(spec(), facts: DeploymentFacts(accountID: "111122223333", permissionsBoundary: arn))
        var o = observed(for: bounded)
        #expect(statuses(bounded, o)["permissions-boundary"] == .held)
        o.resources["role"]![0].attributes["permissionsBoundary"] = .null
        #expect(statuses(bounded, o)["permissions-boundary"] == .notHeld)
    }
}
