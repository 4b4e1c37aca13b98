import Foundation
import ReclawEngine
import ReclawJSON
import Testing

/// A provider that is not AWS: a shelf of boxes whose labels are a set, whose size only grows,
/// and whose lid converges when a new key is made. The engine plans it with no knowledge of AWS.
struct ShelfSchema: ProviderSchema {
    static let box = ResourceKind("box"), key = ResourceKind("key")

    func kind(of key: ComponentKey) -> ResourceKind? { key.hasPrefix("box") ? Self.box : key == "key" ? Self.key : nil }
    func dependencies(of key: ComponentKey) -> [ComponentKey] { key == "box-inner" ? ["box-outer"] : [] }
    func isGlobal(_ kind: ResourceKind) -> Bool { kind == Self.key }
    func rule(_ attribute: String, of kind: ResourceKind) -> AttributeRule {
        switch attribute {
        case "labels": return AttributeRule(.set)
        case "size": return AttributeRule(.growOnly(GrowOnly(subject: "the box", unit: "cm", because: "boxes only grow")))
        default: return .exact
        }
    }
    var convergences: [Convergence] { [Convergence(created: "key", converging: "box-outer", attribute: "lock", reason: "a new key; the box takes it")] }
    func notes(_ observed: ObservedDeployment) -> [String] { [] }
    var globalKindsInWords: String { "the key" }
    func comparableTags(_ tags: [String: String]) -> [String: String] { tags }
    func userTags(_ tags: [String: String]) -> [String: String] { tags }
}

@Suite struct GenericSchemaTests {
    func graph(size: Int = 10, labels: JSONValue = ["a", "b"]) -> DesiredGraph {
        DesiredGraph(deployment: "shelf", region: "here", components: [
            DesiredComponent(key: "box-outer", kind: ShelfSchema.box, attributes: ["size": .init(.int(size)), "labels": .init(labels), "lock": .init("k1")], tags: [:]),
            DesiredComponent(key: "box-inner", kind: ShelfSchema.box, dependsOn: ["box-outer"], attributes: ["size": .init(2)], tags: [:]),
            DesiredComponent(key: "key", kind: ShelfSchema.key, attributes: [:], tags: [:]),
        ])
    }

    func observed(size: Int = 10, labels: JSONValue = ["b", "a"], key: Bool = true) -> ObservedDeployment {
        var o = ObservedDeployment(deployment: "shelf")
        o.add(ObservedResource(key: "box-outer", kind: ShelfSchema.box, id: "b1", attributes: ["size": .int(size), "labels": labels, "lock": "k1"]))
        o.add(ObservedResource(key: "box-inner", kind: ShelfSchema.box, id: "b2", attributes: ["size": 2]))
        if key { o.add(ObservedResource(key: "key", kind: ShelfSchema.key, id: "k1")) }
        return o
    }

    func plan(_ desired: DesiredGraph, _ observed: ObservedDeployment) -> Plan {
        Differ.plan(.init(schema: ShelfSchema(), desired: desired, observed: observed, allowReplace: false, revision: "r"))
    }

    @Test("a set attribute in another order is no change")
    func setsCompareRegardlessOfOrder() {
        #expect(!plan(graph(), observed()).hasChanges)
    }

    @Test("a grow-only attribute that would shrink blocks the change, in the provider's words")
    func growOnlyBlocks() {
        let outer = plan(graph(size: 5), observed()).actions.first { $0.key == "box-outer" }
        #expect(outer?.blockKind == .change && outer?.blocked == "the box cannot shrink (10 cm → 5 cm); boxes only grow")
    }

    @Test("a created component converges the one the schema names")
    func convergence() {
        let outer = plan(graph(), observed(key: false)).actions.first { $0.key == "box-outer" }
        #expect(outer?.kind == .update && outer?.reasons == ["a new key; the box takes it"])
    }

    @Test("deletions follow the schema's dependencies, and plan JSON's action_reason comes from the action's cause")
    func deletionsAndActionReasons() {
        let removed = plan(DesiredGraph(deployment: "shelf", region: "here", components: []), observed())
        #expect(removed.actions.map(\.key) == ["key", "box-inner", "box-outer"])
        #expect(removed.actions.allSatisfy { $0.cause == .noLongerInSpec })
        #expect(removed.dependencies["box-inner"] == ["box-outer"])
        let destroyed = Differ.destroy(observed(), schema: ShelfSchema(), region: "here", revision: "r")
        #expect(destroyed.actions.allSatisfy { $0.cause == .destroying })
        let doc = PlanJSON.document([removed, destroyed], vocabulary: ReclawVocabulary(), reclawVersion: "0", timestamp: Date(timeIntervalSince1970: 0))
        let reasons = doc["resource_changes"]?.arrayValue?.map { $0["action_reason"] ?? .null } ?? []
        #expect(reasons == Array(repeating: "delete_because_no_resource_config", count: 3) + Array(repeating: .null, count: 3))
    }
}
