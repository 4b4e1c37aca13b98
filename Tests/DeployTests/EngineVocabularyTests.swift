import Foundation
import ReclawTestSupport
import Testing

/// ReclawEngine is generic over a provider's schema: it names no AWS service, no CloudFormation
/// or Terraform type and nothing of OpenClaw. Those belong to ReclawCatalog and ReclawProviderAWS.
@Suite struct EngineVocabularyTests {
    /// Words that betray provider knowledge, each with why it is one. Case-sensitive where a
    /// word is also ordinary English in another case; bounded where it could sit inside a word.
    static let words: [(pattern: String, why: String)] = [
        (#"AWS::"#, "a CloudFormation type name (AWS::EC2::VPC): audit names are the catalog's"),
        (#"CloudFormation"#, "CloudFormation's vocabulary is the catalog's"),
        (#"(?i)openclaw"#, "the application deployed, its settings and its /openclaw/ parameter paths"),
        (#"(?i)bedrock"#, "the model service the instance role is allowed"),
        (#"\b(ec2|EC2)\b"#, "the EC2 service, its actions (ec2:CreateTags) and its principal"),
        (#"\b(iam|IAM)\b"#, "IAM: roles, instance profiles, policies and their paths"),
        (#"\b(ssm|SSM)\b"#, "Systems Manager parameters and image references (ssm:...)"),
        (#"(?i)\bvpc"#, "VPCs, VPC endpoints and their ids (vpc-...)"),
        (#"\bgp3\b"#, "an EBS volume type"),
        (#"\bEBS\b"#, "EBS volumes and what they cannot do (shrink, encrypt in place)"),
        (#"SecureString"#, "the parameter type whose value is secret: a comparison rule the schema declares"),
        (#"\bami-|\bAMI\b"#, "AMI ids and the newer-AMI note: the provider's notes"),
        (#"amazonaws"#, "service names and principals (com.amazonaws.REGION.SERVICE, ec2.amazonaws.com)"),
        (#"\baws_"#, "Terraform AWS provider types: the plan vocabulary's"),
        (#"\barn:"#, "ARNs"),
        (#"aws-marketplace"#, "Marketplace actions of the instance role's policies"),
    ]

    @Test("the engine's sources name no AWS or OpenClaw thing, and a finding names its file and line")
    func theEngineNamesNoProvider() throws {
        let directory = RepoPaths.path("Sources/ReclawEngine")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files.count > 10)
        let patterns = try Self.words.map { (try NSRegularExpression(pattern: $0.pattern), $0) }
        var findings: [String] = []
        for file in files {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = String(line)
                for (regex, word) in patterns where regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil {
                    findings.append("Sources/ReclawEngine/\(file):\(number + 1): matches \(word.pattern) (\(word.why)): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(findings.isEmpty, "\(findings.joined(separator: "\n"))")
    }

    @Test("the word list catches what it is meant to")
    func theWordsCatchProviderKnowledge() throws {
        let samples = ["AWS::EC2::VPC", "\"/openclaw/\\(d)/model\"", "ec2:CreateTags", "the IAM role", "vpcEndpoint", "\"gp3\"", "\"SecureString\"",
                       "ami-0123", "com.amazonaws.us-east-1.ssm", "aws_vpc", "bedrock:InvokeModel"]
        let patterns = try Self.words.map { try NSRegularExpression(pattern: $0.pattern) }
        for sample in samples {
            #expect(patterns.contains { $0.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil }, "\(sample)")
        }
        let ordinary = ["the plan's before and after", "a william", "missing in AWS (deleted outside reclaw?)", "amity"]
        for sample in ordinary {
            #expect(!patterns.contains { $0.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil }, "\(sample)")
        }
    }
}
