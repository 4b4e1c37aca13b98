import Testing
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec

@Suite struct DesiredGraphTests {
    @Test func theSeedHasEveryComponentOfTheDesign() {
        let g = DesiredGraphBuilder.build(spec(), facts: facts)
        #expect(g.keys == [
            "vpc", "igw", "public-subnet", "private-subnet", "public-rt", "private-rt", "instance-sg", "endpoint-sg",
            "endpoint-bedrock-runtime", "endpoint-ssm", "endpoint-ssmmessages", "endpoint-ec2messages",
            "role", "instance-profile", "param-gateway-token", "param-model", "param-version", "param-gateway-port", "instance",
        ])
    }

    @Test func everyComponentCarriesTheOwnershipTagsAndTheSpecsTags() {
        let g = DesiredGraphBuilder.build(spec { $0.tags = ["CostCenter": "42"] }, facts: facts)
        for c in g.components {
            #expect(c.tags == ["reclaw:deployment": "alpha", "reclaw:component": c.key, "Name": "alpha-\(c.key)", "CostCenter": "42"])
        }
    }

    @Test func withAsManySpecTagsAsValidateAllowsNoResourceExceedsAWSsTagLimit() {
        let most = Dictionary(uniqueKeysWithValues: (1...ReclawTags.maxSpecTags).map { ("k\($0)", "v") })
        let g = DesiredGraphBuilder.build(spec { $0.tags = most }, facts: facts)
        for c in g.components {
            #expect(Set(c.tags.keys).subtracting(most.keys) == Set(ReclawTags.everywhere), "\(c.key)")
            let added = ReclawTags.byKind[c.kind.rawValue] ?? []
            #expect(c.tags.count + added.count <= ReclawTags.awsLimit, "\(c.key)")
        }
        #expect(ReclawTags.byKind["instance"] == [DesiredGraphBuilder.imageTag, DesiredGraphBuilder.configTag])
    }

    @Test func theInstanceSecurityGroupHasNoIngressUnlessSshCidrIsSet() {
        let closed = DesiredGraphBuilder.build(spec(), facts: facts)
        #expect(closed["instance-sg"]?.attributes["ingress"]?.value == [])
        let open = DesiredGraphBuilder.build(spec { $0.instance.sshCidr = "203.0.113.0/24" }, facts: facts)
        #expect(open["instance-sg"]?.attributes["ingress"]?.value == [["protocol": "tcp", "fromPort": 22, "toPort": 22, "peer": "203.0.113.0/24"]])
        #expect(closed["endpoint-sg"]?.attributes["ingress"]?.value == [["protocol": "tcp", "fromPort": 443, "toPort": 443, "peer": ["$ref": "instance-sg"]]])
    }

    @Test func noEndpointsMeansNoEndpointSecurityGroup() {
        let g = DesiredGraphBuilder.build(spec { $0.network.vpcEndpoints = [] }, facts: facts)
        #expect(g["endpoint-sg"] == nil)
        #expect(!g.keys.contains { $0.hasPrefix("endpoint-") })
    }

    @Test func theRoleIsLeastPrivilege() throws {
        let g = DesiredGraphBuilder.build(spec(), facts: facts)
        let role = try #require(g["role"])
        #expect(role.name == "reclaw-alpha-instance")
        #expect(role.attributes["path"]?.value == "/reclaw/")
        let inline = try #require(role.attributes["inlinePolicies"]?.value.objectValue)
        #expect(inline.keys.sorted() == ["bedrock", "marketplace", "ssm-parameters"])
        #expect(inline["ssm-parameters"]?["Statement"]?.arrayValue?.first?["Resource"] == ["arn:aws:ssm:us-east-1:111122223333:parameter/openclaw/alpha/*"])
        #expect(inline["marketplace"]?["Statement"]?.arrayValue?.first?["Condition"] == ["StringEquals": ["aws:CalledViaLast": ["bedrock.amazonaws.com"]]])
        let noMarket = DesiredGraphBuilder.build(spec { $0.iam.marketplaceSubscribe = false }, facts: facts)
        #expect(noMarket["role"]?.attributes["inlinePolicies"]?.value.objectValue?.keys.sorted() == ["bedrock", "ssm-parameters"])
    }

    @Test func theGatewayTokenIsSensitiveAndNeverUpdated() throws {
        let token = try #require(DesiredGraphBuilder.build(spec(), facts: facts)["param-gateway-token"])
        #expect(token.attributes["value"]?.sensitive == true)
        #expect(token.attributes["value"]?.update == .createOnly)
        #expect(token.attributes["type"]?.value == "SecureString")
        #expect(token.name == "/openclaw/alpha/gateway-token")
    }

    @Test func policyDocumentsThatMeanTheSameAreEqualOnceCanonical() {
        let a: JSONValue = ["Version": "2012-10-17", "Statement": ["Effect": "Allow", "Action": "s3:GetObject", "Resource": ["*"]]]
        let b: JSONValue = ["Version": "2012-10-17", "Statement": [["Resource": "*", "Action": ["s3:GetObject", "s3:GetObject"], "Effect": "Allow"]]]
        #expect(Policies.canonical(a) == Policies.canonical(b))
        let c: JSONValue = ["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Action": ["b", "a"], "Resource": "*"], ["Effect": "Deny", "Action": "x", "Resource": "*"]]]
        let d: JSONValue = ["Version": "2012-10-17", "Statement": [["Effect": "Deny", "Action": ["x"], "Resource": "*"], ["Effect": "Allow", "Action": ["a", "b"], "Resource": "*"]]]
        #expect(Policies.canonical(c) == Policies.canonical(d))
    }

    @Test func everyPropertyTheSecurityPromisesNeedIsComparedAndCorrectedInPlace() throws {
        let g = DesiredGraphBuilder.build(spec(), facts: facts)
        for name in ["enableDnsSupport", "enableDnsHostnames"] {
            #expect(g["vpc"]?.attributes[name] == DesiredAttribute(true, .inPlace), "\(name)")
        }
        #expect(g["instance"]?.attributes["instanceProfile"] == DesiredAttribute("reclaw-alpha-instance", .inPlace))
        #expect(g["instance"]?.attributes["rootVolumeType"] == DesiredAttribute("gp3", .inPlace))
        // EBS cannot encrypt a volume in place.
        #expect(g["instance"]?.attributes["rootVolumeEncrypted"] == DesiredAttribute(true, .replace))
        #expect(g["private-subnet"]?.attributes["internetGatewayRoutes"] == DesiredAttribute([], .inPlace))
        #expect(g["public-subnet"]?.attributes["internetGatewayRoutes"] == nil)
        #expect(g["endpoint-ssm"]?.attributes["privateDns"] == DesiredAttribute(true, .inPlace))
        #expect(g["instance-sg"]?.attributes["egress"]?.update == .inPlace)
    }

    @Test func thePrivateSubnetHasItsOwnRouteTableWithOnlyTheLocalRoute() throws {
        let g = DesiredGraphBuilder.build(spec(), facts: facts)
        let rt = try #require(g["private-rt"])
        #expect(rt.kind == .routeTable)
        #expect(rt.attributes["routes"]?.value == [])
        #expect(rt.attributes["subnets"]?.value == [["$ref": "private-subnet"]])
        #expect(rt.dependsOn == ["vpc", "private-subnet"])
        #expect(rt.tags["reclaw:component"] == "private-rt" && rt.tags["Name"] == "alpha-private-rt")
    }

    @Test func theRoleCarriesTheOperatorsBoundaryOnlyWhenOneIsGiven() {
        let none = DesiredGraphBuilder.build(spec(), facts: facts)
        #expect(none["role"]?.attributes["permissionsBoundary"] == nil)
        let arn = "arn:aws:iam::111122223333:policy/reclaw-instance-boundary"
        let bounded = DesiredGraphBuilder.build(spec(), facts: DeploymentFacts(accountID: "111122223333", permissionsBoundary: arn))
        #expect(bounded["role"]?.attributes["permissionsBoundary"] == DesiredAttribute(.string(arn), .inPlace))
    }
}
