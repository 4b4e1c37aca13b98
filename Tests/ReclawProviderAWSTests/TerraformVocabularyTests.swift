import Foundation
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawSpec
import Testing

/// Plan JSON in the Terraform AWS provider's words: types and attributes as policy tools written
/// for Terraform plans read them (checkov, OPA/conftest). Plans made by the differ, no AWS.
@Suite struct TerraformVocabularyTests {
    let facts = DeploymentFacts(accountID: "111122223333")

    func spec(ssh: String? = nil) -> DeploymentSpec {
        var s = DeploymentSpec(name: "alpha", region: "us-east-1", network: .init(region: "us-east-1"), instance: .init(),
                               openclaw: .init(version: "2026.2.3"))
        s.instance.sshCidr = ssh
        return s
    }

    /// AWS as a perfect apply of `graph` leaves it.
    func observed(_ graph: DesiredGraph) -> ObservedDeployment {
        var ids: [ComponentKey: String] = [:]
        for c in graph.components { ids[c.key] = c.name ?? "\(c.kind.rawValue)-\(c.key)" }
        var o = ObservedDeployment(deployment: graph.deployment)
        for c in graph.components {
            var attributes: [String: JSONValue] = [:]
            for (name, a) in c.attributes where a.update != .createOnly { attributes[name] = Ref.resolve(a.value, ids: ids) }
            o.add(ObservedResource(key: c.key, kind: c.kind, id: ids[c.key]!, attributes: attributes, tags: c.tags))
        }
        return o
    }

    func document(_ desired: DesiredGraph, _ observed: ObservedDeployment) -> JSONValue {
        let plan = Differ.plan(.init(schema: AWSSchema(), desired: desired, observed: observed, allowReplace: false, revision: "r1"))
        return PlanJSON.document([plan], vocabulary: TerraformVocabulary(), reclawVersion: "9.9.9", timestamp: Date())
    }

    func entry(_ doc: JSONValue, _ address: String) -> JSONValue? {
        doc["resource_changes"]?.arrayValue?.first { $0["address"]?.stringValue == address }
    }

    @Test func everyKindHasItsTerraformType() {
        let types = ResourceKind.allCases.map { TerraformVocabulary().type(of: $0) }
        #expect(Set(types) == ["aws_vpc", "aws_internet_gateway", "aws_subnet", "aws_route_table", "aws_security_group", "aws_vpc_endpoint",
                               "aws_iam_role", "aws_iam_instance_profile", "aws_ssm_parameter", "aws_instance"])
    }

    @Test func creationsUseTheProvidersNamesAndBlocks() throws {
        let graph = DesiredGraphBuilder.build(spec(ssh: "0.0.0.0/0"), facts: facts)
        let doc = document(graph, ObservedDeployment(deployment: "alpha"))
        let sg = try #require(entry(doc, "alpha.instance-sg"))
        #expect(sg["type"] == "aws_security_group" && sg["provider_name"] == "reclaw.dev/aws" && sg["component"] == "instance-sg")
        let ingress = try #require(sg["change"]?["after"]?["ingress"]?.arrayValue)
        #expect(ingress == [["protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [],
                             "prefix_list_ids": [], "security_groups": [], "self": false, "description": ""]])
        #expect(sg["change"]?["after"]?["egress"]?.arrayValue?.first?["protocol"] == "-1")
        #expect(sg["change"]?["after"]?["name"] == "alpha-instance-sg" && sg["change"]?["after_unknown"]?["vpc_id"] == true)
        // A rule from another group not yet created: its group is known only after apply.
        let endpointSG = try #require(entry(doc, "alpha.endpoint-sg"))
        #expect(endpointSG["change"]?["after_unknown"]?["ingress"]?.arrayValue?.first?["security_groups"] == [true])
        let instance = try #require(entry(doc, "alpha.instance")?["change"]?["after"])
        #expect(instance["metadata_options"] == [["http_tokens": "required"]])
        #expect(instance["root_block_device"] == [["encrypted": true, "volume_size": 30, "volume_type": "gp3"]])
        #expect(instance["instance_type"] == "t4g.medium" && instance["ami"]?.stringValue?.hasPrefix("resolve:ssm:/aws/service/") == true)
        #expect(instance["tags"]?["reclaw:component"] == "instance" && instance["tags_all"] == instance["tags"])
        let role = try #require(entry(doc, "alpha.role")?["change"]?["after"])
        #expect(role["name"] == .null && role["assume_role_policy"]?.stringValue?.contains("ec2.amazonaws.com") == true)
        #expect(role["inline_policy"]?.arrayValue?.map { $0["name"] } == ["bedrock", "marketplace", "ssm-parameters"])
        let token = try #require(entry(doc, "alpha.param-gateway-token"))
        #expect(token["type"] == "aws_ssm_parameter" && token["change"]?["after_sensitive"] == ["value": true])
        #expect(entry(doc, "alpha.public-rt")?["change"]?["after_unknown"]?["route"] == [["gateway_id": true]])
        #expect(!doc.description.contains("$ref"))
    }

    @Test func priorStateAndPlannedValuesHoldTheResourcesInTheSameWords() throws {
        let graph = DesiredGraphBuilder.build(spec(), facts: facts)
        let doc = document(graph, observed(graph))
        let prior = try #require(doc["prior_state"]?["values"]?["root_module"]?["resources"]?.arrayValue)
        let planned = try #require(doc["planned_values"]?["root_module"]?["resources"]?.arrayValue)
        #expect(prior.count == graph.components.count && planned.count == graph.components.count)
        let vpc = try #require(planned.first { $0["type"] == "aws_vpc" })
        #expect(vpc["values"]?["cidr_block"] == "10.0.0.0/16" && vpc["values"]?["enable_dns_hostnames"] == true && vpc["values"]?["id"] == "vpc-vpc")
        let role = try #require(prior.first { $0["type"] == "aws_iam_role" })
        #expect(role["values"]?["name"] == "reclaw-alpha-instance")
        #expect(planned.first { $0["type"] == "aws_security_group" }?["values"]?["ingress"] == [])
    }

    @Test func replacementPathsAndDriftedAttributesAreTheProvidersPaths() throws {
        let graph = DesiredGraphBuilder.build(spec(), facts: facts)
        var o = observed(graph)
        o.resources["instance"]![0].attributes["rootVolumeEncrypted"] = false
        o.resources["instance"]![0].attributes["httpTokens"] = "optional"
        let plan = Differ.plan(.init(schema: AWSSchema(), desired: graph, observed: o, allowReplace: false, lastApplied: graph, revision: "r1"))
        let doc = PlanJSON.document([plan], vocabulary: TerraformVocabulary(), reclawVersion: "9.9.9", timestamp: Date())
        let instance = try #require(entry(doc, "alpha.instance"))
        #expect(instance["change"]?["replace_paths"] == [["root_block_device", 0, "encrypted"]])
        let drift = try #require(doc["resource_drift"]?.arrayValue?.first { $0["address"] == "alpha.instance" })
        #expect(Set(drift["drifted_attributes"]?.arrayValue ?? []) == ["root_block_device.0.encrypted", "metadata_options.0.http_tokens"])
        #expect(drift["change"]?["before"]?["metadata_options"] == [["http_tokens": "required"]])
        #expect(drift["change"]?["after"]?["metadata_options"] == [["http_tokens": "optional"]])
    }
}
