import Foundation
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec
import Testing

/// The Terraform-shaped plan document, from plans made by the differ with plain values, in reclaw's
/// own words (`ReclawVocabulary`); the provider's Terraform words are tested with it.
@Suite struct PlanJSONTests {
    let base = DesiredGraphBuilder.build(spec(), facts: facts)
    let at = Date(timeIntervalSince1970: 1_800_000_000)

    func document(_ plans: [Plan]) -> JSONValue {
        PlanJSON.document(plans, vocabulary: ReclawVocabulary(), reclawVersion: "9.9.9", timestamp: at)
    }

    func entry(_ doc: JSONValue, _ address: String, in list: String = "resource_changes") -> JSONValue? {
        doc[list]?.arrayValue?.first { $0["address"]?.stringValue == address }
    }

    @Test func creationsHaveWholeAfterObjectsWithUnknownIdsAndSecretsMasked() throws {
        let doc = document([plan(base, ObservedDeployment(deployment: "alpha"))])
        #expect(doc["format_version"] == "2.0" && doc["reclaw_version"] == "9.9.9" && doc["timestamp"] == "2027-01-15T08:00:00Z")
        let subnet = try #require(entry(doc, "alpha.public-subnet"))
        #expect(subnet["type"] == "subnet" && subnet["name"] == "public-subnet" && subnet["deployment"] == "alpha" && subnet["component"] == "public-subnet")
        #expect(subnet["change"]?["actions"] == ["create"] && subnet["change"]?["before"] == .null)
        #expect(subnet["change"]?["after"]?["cidr"] == "10.0.1.0/24" && subnet["change"]?["after"]?["vpc"] == .null)
        // Only the unknown values are true; known ones are left out of objects.
        #expect(subnet["change"]?["after_unknown"] == ["id": true, "vpc": true, "tags": [:]])
        let route = try #require(entry(doc, "alpha.public-rt"))
        #expect(route["change"]?["after_unknown"]?["routes"] == [["gateway": true]])
        #expect(route["change"]?["after_unknown"]?["subnets"] == [true])
        let token = try #require(entry(doc, "alpha.param-gateway-token"))
        #expect(token["change"]?["after_sensitive"] == ["value": true] && token["change"]?["before_sensitive"] == false)
        #expect(token["change"]?["after"]?["value"] == nil)
        #expect(!doc.description.contains("$ref"), "an internal reference leaked into the document")
        // Nothing exists yet: no prior state; every resource is planned, unknowns as null.
        #expect(doc["prior_state"]?["values"]?["root_module"]?["resources"] == [])
        let planned = try #require(doc["planned_values"]?["root_module"]?["resources"]?.arrayValue)
        #expect(planned.count == base.components.count)
        let plannedSubnet = try #require(planned.first { $0["address"] == "alpha.public-subnet" })
        #expect(plannedSubnet["values"]?["cidr"] == "10.0.1.0/24" && plannedSubnet["values"]?["vpc"] == .null && plannedSubnet["schema_version"] == 0)
        #expect(planned.first { $0["address"] == "alpha.param-gateway-token" }?["sensitive_values"] == ["value": true])
    }

    @Test func aMatchIsANoOpWhoseBeforeAndAfterAreEqual() throws {
        let doc = document([plan(base, observed(for: base))])
        let changes = try #require(doc["resource_changes"]?.arrayValue)
        #expect(changes.count == base.components.count)
        for c in changes {
            #expect(c["change"]?["actions"] == ["no-op"])
            #expect(c["change"]?["before"] == c["change"]?["after"], "\(c["address"] ?? .null)")
        }
        #expect(doc["changes"] == false && doc["applyable"] == false && doc["resource_drift"] == [])
        // What exists is the prior state, and stays as it is.
        #expect(doc["prior_state"]?["values"]?["root_module"]?["resources"]?.arrayValue?.count == base.components.count)
        let values = { (tree: String) in doc[tree]?["values"]?["root_module"]?["resources"]?.arrayValue?.map { $0["values"] } }
        #expect(values("prior_state") != nil && values("prior_state") == doc["planned_values"]?["root_module"]?["resources"]?.arrayValue?.map { $0["values"] })
    }

    @Test func replacementsNameTheirPathsAndReasonAndDeletionsOfWhatLeftTheSpecSayWhy() throws {
        let edited = DesiredGraphBuilder.build(spec {
            $0.network.vpcCidr = "10.1.0.0/16"
            $0.network.publicSubnetCidr = "10.1.1.0/24"
            $0.network.privateSubnetCidr = "10.1.2.0/24"
            $0.network.vpcEndpoints = ["ssm", "ssmmessages", "ec2messages"]
        }, facts: facts)
        var o = observed(for: base)
        o.add(ObservedResource(key: "vpc", kind: .vpc, id: "vpc-duplicate", attributes: ["cidr": "10.0.0.0/16"]))
        let doc = document([plan(edited, Identity.resolve(o, recorded: ["vpc": "vpc-vpc"]))])
        #expect(doc["plans"]?.arrayValue?.first?["look_alikes"] == [["address": "alpha.vpc", "resource_id": "vpc-duplicate", "recorded_id": "vpc-vpc"]])
        let vpc = try #require(entry(doc, "alpha.vpc"))
        #expect(vpc["change"]?["actions"] == ["delete", "create"])
        #expect(vpc["change"]?["replace_paths"] == [["cidr"]])
        #expect(vpc["action_reason"] == "replace_because_cannot_update")
        #expect(vpc["blocked"]?.stringValue?.contains("allowReplace") == true)
        #expect(vpc["change"]?["after_unknown"]?["id"] == true && vpc["change"]?["before"]?["id"] == "vpc-vpc")
        let endpoint = try #require(entry(doc, "alpha.endpoint-bedrock-runtime"))
        #expect(endpoint["change"]?["actions"] == ["delete"] && endpoint["change"]?["after"] == .null)
        #expect(endpoint["action_reason"] == "delete_because_no_resource_config" && endpoint["change"]?["after_sensitive"] == false)
        #expect(doc["resource_changes"]?.arrayValue?.contains { $0["resource_id"] == "vpc-duplicate" } == false, "a look-alike is no change")
        #expect(doc["applyable"] == false)
        // A blocked replacement is planned as it is now; a deletion leaves nothing planned.
        let planned = try #require(doc["planned_values"]?["root_module"]?["resources"]?.arrayValue)
        #expect(planned.first { $0["address"] == "alpha.vpc" }?["values"]?["cidr"] == "10.0.0.0/16")
        #expect(!planned.contains { $0["address"] == "alpha.endpoint-bedrock-runtime" })
    }

    @Test func driftIsAResourceChangeFromWhatReclawAppliedToWhatAWSHas() throws {
        var o = observed(for: base)
        let rule: JSONValue = ["protocol": "tcp", "fromPort": 22, "toPort": 22, "peer": "0.0.0.0/0"]
        o.resources["instance-sg"]![0].attributes["ingress"] = [rule]
        o.resources["vpc"]![0].tags["Team"] = "someone"
        o.resources["endpoint-ssm"] = nil
        let p = plan(base, o, last: base)
        let doc = document([p])
        let sg = try #require(entry(doc, "alpha.instance-sg", in: "resource_drift"))
        #expect(sg["change"]?["actions"] == ["update"] && sg["drifted_attributes"] == ["ingress"])
        #expect(sg["change"]?["before"]?["ingress"] == [] && sg["change"]?["after"]?["ingress"] == [rule])
        #expect(sg["change"]?["before"]?["egress"] == sg["change"]?["after"]?["egress"])
        let vpc = try #require(entry(doc, "alpha.vpc", in: "resource_drift"))
        #expect(vpc["change"]?["before"]?["tags"]?["Team"] == nil && vpc["change"]?["after"]?["tags"]?["Team"] == "someone")
        #expect(vpc["drifted_attributes"] == ["tags.Team"])
        let gone = try #require(entry(doc, "alpha.endpoint-ssm", in: "resource_drift"))
        #expect(gone["change"]?["actions"] == ["delete"] && gone["change"]?["after"] == .null)
        #expect(gone["change"]?["before"]?["serviceName"] == "com.amazonaws.us-east-1.ssm")
        // The correction is in resource_changes; reclaw's own entry keeps the items, under both names.
        #expect(entry(doc, "alpha.instance-sg")?["change"]?["actions"] == ["update"])
        let item = try #require(doc["plans"]?.arrayValue?.first?["drift"]?.arrayValue?.first { $0["attribute"] == "ingress" })
        #expect(item["before"] == [] && item["expected"] == [] && item["after"] == [rule] && item["actual"] == [rule])
        #expect(doc["drift"] == true)
    }
}
