import Foundation
import Testing
import ReclawSpec

@Suite struct DecodingTests {
    @Test func aMinimalDocumentGetsEveryDefault() throws {
        let spec = try #require(load(document()).deployments.first?.spec)
        #expect(spec.network == .init(region: "us-east-1"))
        #expect(spec.network.vpcCidr == "10.0.0.0/16")
        #expect(spec.network.vpcEndpoints == ["bedrock-runtime", "ssm", "ssmmessages", "ec2messages"])
        #expect(spec.instance.type == "t4g.medium")
        #expect(spec.instance.rootVolumeGiB == 30)
        #expect(spec.instance.sshCidr == nil && spec.instance.keyName == nil)
        #expect(spec.openclaw.model == "global.amazon.nova-2-lite-v1:0")
        #expect(spec.openclaw.gatewayPort == 18789)
        #expect(spec.iam.managedPolicyArns == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"])
        #expect(spec.iam.marketplaceSubscribe)
        #expect(spec.policy == .init(drift: .correct, allowReplace: false))
        #expect(spec.tags.isEmpty)
    }

    @Test func severalDocumentsInOneFileAreAllRead() {
        let text = document(name: "one") + "\n---\n" + document(name: "two")
        #expect(load(text).deployments.map(\.spec.name) == ["one", "two"])
    }

    @Test func otherKindsAndVersionsAreSkipped() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n---\n- a list\n---\n" + document()
        let r = load(text)
        #expect(r.diagnostics.isEmpty)
        #expect(r.deployments.count == 1)
        #expect(r.skipped.count == 2)
    }

    @Test func anotherReclawVersionIsAnErrorAndTheFileUnreadable() {
        let r = load(document().replacingOccurrences(of: "reclaw.dev/v1alpha1", with: "reclaw.dev/v2"))
        #expect(r.deployments.isEmpty)
        #expect(r.errors.map(\.code) == ["unsupported-api-version"])
        #expect(r.errors.first.map { ($0.line, $0.column) == (1, 13) } == true)
        #expect(r.unreadableFiles.keys.sorted() == ["spec.yaml"])
        #expect(r.skipped.isEmpty && r.invalidDeployments.isEmpty)
    }

    @Test func unquotedVersionsStayTheTextTheyWereWrittenAs() throws {
        let text = document().replacingOccurrences(of: "version: \"2026.2.3\"", with: "version: 2026.10")
        #expect(load(text).deployments.first?.spec.openclaw.version == "2026.10")
    }

    @Test func anInvalidDocumentDoesNotHideTheValidOnesBesideIt() {
        let bad = document(name: "broken", "  network: {vpcCidr: nope}")
        let r = SpecLoader().load([SpecFile(path: "a.yaml", text: bad), SpecFile(path: "b.yaml", text: document(name: "fine"))])
        #expect(r.deployments.map(\.spec.name) == ["fine"])
        #expect(r.invalidDeployments.keys.sorted() == ["broken"])
        #expect(r.invalidDeployments["broken"]?.first?.file == "a.yaml")
    }

    @Test func aFileThatDoesNotParseIsNamedWithItsErrors() {
        let r = SpecLoader().load([SpecFile(path: "bad.yaml", text: "a: [\n"), SpecFile(path: "ok.yaml", text: document())])
        #expect(r.filesWithErrors == ["bad.yaml"])
        #expect(r.deployments.count == 1)
    }

    @Test func nullableFieldsAcceptNullAndOthersDoNot() {
        #expect(load(document("  instance: {sshCidr: null, keyName: ~, image: null}")).errors.isEmpty)
        let r = load(document("  network: {vpcEndpoints: null}"))
        #expect(r.errors.map(\.message) == ["spec.network.vpcEndpoints must be a list, found null"])
    }

    @Test func anEmptyEndpointListIsValidWithAWarning() throws {
        let r = load(document("  network: {vpcEndpoints: []}"))
        #expect(r.errors.isEmpty)
        #expect(r.warnings.map(\.code) == ["no-endpoints"])
        #expect(r.deployments.first?.spec.network.vpcEndpoints == [])
    }

    @Test func tooManyTagsAreRefusedWithTheReason() {
        let tags = (1...46).map { "    k\($0): v" }.joined(separator: "\n")
        let r = load(document("  tags:\n" + tags))
        #expect(r.errors.count == 1)
        #expect(r.errors.first?.message.contains("reclaw sets up to 5 of its own, on the instance") == true, "\(r.errors)")
        let fine = (1...45).map { "    k\($0): v" }.joined(separator: "\n")
        #expect(load(document("  tags:\n" + fine)).errors.isEmpty)
    }

    @Test func tagLengthLimitsAreAWSs() {
        let longKey = String(repeating: "k", count: 129)
        let longValue = String(repeating: "v", count: 257)
        #expect(load(document("  tags: {\(longKey): v}")).errors.map(\.code) == ["tag-key-length"])
        #expect(load(document("  tags: {k: \(longValue)}")).errors.map(\.code) == ["too-long"])
        #expect(load(document("  tags: {\(String(repeating: "k", count: 128)): \(String(repeating: "v", count: 256))}")).errors.isEmpty)
    }

    @Test(arguments: [
        ("ab", true), ("a", false), ("a-b-c", true), ("a-", false), ("1ab", false),
        (String(repeating: "a", count: 32), true), (String(repeating: "a", count: 33), false), ("Ab", false), ("a_b", false),
    ])
    func namesFollowThePattern(name: String, valid: Bool) {
        #expect(load(document(name: name)).errors.isEmpty == valid)
    }

    @Test(arguments: [#""alpha\n""#, #""alpha\r\n""#, #""alpha\u2028""#, #""../../x/pwned""#, #""al\npha""#])
    func aNameWithALineBreakOrAPathIsInvalidAndNeverAKey(quoted: String) {
        // ICU's `$` matches before a final line break: the whole name must match, not a prefix.
        let r = load(document(name: quoted))
        #expect(r.errors.map(\.code) == ["invalid-name"], "\(r.errors)")
        #expect(r.invalidDeployments.isEmpty && r.deployments.isEmpty && r.fileOf.isEmpty)
        #expect(r.unreadableFiles["spec.yaml"]?.hasPrefix("it holds a deployment whose metadata.name '") == true)
        #expect(!r.errors[0].description.contains("\n") && !r.errors[0].description.contains("\u{2028}"))
    }

    @Test(arguments: [("region", #""us-east-1\n""#), ("version", #""2026.2.3\n""#)])
    func otherPatternsMatchTheWholeValueToo(key: String, quoted: String) {
        let text = key == "region" ? document().replacingOccurrences(of: "region: us-east-1", with: "region: \(quoted)")
                                   : document().replacingOccurrences(of: "version: \"2026.2.3\"", with: "version: \(quoted)")
        #expect(!load(text).errors.isEmpty)
    }

    @Test(arguments: [
        ("us-east-1", "us-east-1b", true), ("us-gov-west-1", "us-gov-west-1a", true), ("eu-central-2", "eu-central-2c", true),
        ("us-east-1", "us-east-2a", false), ("us-east-1", "us-east-1", false), ("useast1", "useast1a", false),
    ])
    func zonesMustBelongToTheirRegion(region: String, zone: String, valid: Bool) {
        let text = document("  network: {availabilityZone: \(zone)}").replacingOccurrences(of: "region: us-east-1", with: "region: \(region)")
        #expect(load(text).errors.isEmpty == valid)
    }

    @Test(arguments: [
        ("ami-0123abcd", true), ("ami-0123456789abcdef0", true), ("ami-0123456789abcdef", false), ("ami-XYZ12345", false),
        ("ssm:/my/ami/param", true), ("ssm:relative", false), ("ubuntu", false),
    ])
    func imagesAreSsmParametersOrAmiIds(image: String, valid: Bool) {
        #expect(load(document("  instance: {image: \"\(image)\"}")).errors.isEmpty == valid)
    }

    @Test(arguments: [
        ("t4g.medium", "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", false),
        ("m7i.large", "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", true),
        ("c7g.large", "ami-0123abcd", true),
    ])
    func theImagesArchitectureMustMatchTheType(type: String, image: String, valid: Bool) {
        #expect(load(document("  instance: {type: \(type), image: \"\(image)\"}")).errors.isEmpty == valid)
    }

    @Test(arguments: [
        ("global.amazon.nova-2-lite-v1:0", true), ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", true),
        ("anthropic.claude-3-sonnet-20240229-v1:0:28k", true), ("amazon.titan-text-express-v1", true),
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0", true),
        ("claude", false), ("Claude.Sonnet", false), ("a b.c", false),
    ])
    func modelIdsAreChecked(model: String, valid: Bool) {
        #expect(load(document().replacingOccurrences(of: "version: \"2026.2.3\"", with: "version: \"2026.2.3\"\n    model: \"\(model)\"")).errors.isEmpty == valid)
    }

    @Test(arguments: [(1024, true), (65535, true), (1023, false), (65536, false), (0, false)])
    func gatewayPortsAreUnprivilegedPorts(port: Int, valid: Bool) {
        #expect(load(document().replacingOccurrences(of: "version: \"2026.2.3\"", with: "version: \"2026.2.3\"\n    gatewayPort: \(port)")).errors.isEmpty == valid)
    }

    @Test(arguments: [("10.0.0.0/16", true), ("10.0.0.0/28", true), ("10.0.0.0/15", false), ("10.0.0.0/29", false)])
    func vpcSizesAreAWSs(cidr: String, valid: Bool) {
        let network = valid && cidr.hasSuffix("/28")
            ? "  network: {vpcCidr: \(cidr), publicSubnetCidr: 10.0.0.0/28, privateSubnetCidr: 10.0.0.0/28}" : "  network: {vpcCidr: \(cidr)}"
        let errors = load(document(network)).errors.filter { $0.code == "vpc-size" }
        #expect(errors.isEmpty == valid)
    }

    @Test func architecturesFollowTheFamilyName() {
        for arm in ["t4g.medium", "c7g.xlarge", "m7gd.large", "r7g.2xlarge", "c6gn.large", "im4gn.large", "x2gd.large", "a1.large", "hpc7g.4xlarge", "g5g.xlarge"] {
            #expect(InstanceTypes.architecture(of: arm) == .arm64, "\(arm)")
        }
        for x86 in ["t3.medium", "c6i.large", "m7i-flex.large", "g4dn.xlarge", "c7a.large", "p4d.24xlarge", "inf2.xlarge", "u-6tb1.metal"] {
            #expect(InstanceTypes.architecture(of: x86) == .amd64, "\(x86)")
        }
    }

    @Test func cidrArithmetic() throws {
        let vpc = try #require(CIDR("10.0.0.0/16"))
        #expect(vpc.contains(try #require(CIDR("10.0.255.0/24"))))
        #expect(!vpc.contains(try #require(CIDR("10.1.0.0/24"))))
        #expect(!vpc.contains(try #require(CIDR("10.0.0.0/8"))))
        #expect(try #require(CIDR("10.0.2.0/23")).overlaps(try #require(CIDR("10.0.3.0/24"))))
        #expect(!(try #require(CIDR("10.0.2.0/24")).overlaps(try #require(CIDR("10.0.3.0/24")))))
        #expect(CIDR("10.0.0.1/16")?.hasHostBits == true)
        for bad in ["10.0.0/16", "10.0.0.0", "10.0.0.256/16", "10.0.0.0/33", "a.b.c.d/8", "10.0.0.0/-1", "10..0.0/16"] {
            #expect(CIDR(bad) == nil, "\(bad)")
        }
    }
}
