import Foundation
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec

let facts = DeploymentFacts(accountID: "111122223333")

func spec(_ edit: (inout DeploymentSpec) -> Void = { _ in }) -> DeploymentSpec {
    var s = DeploymentSpec(name: "alpha", region: "us-east-1", network: .init(region: "us-east-1"), instance: .init(),
                           openclaw: .init(version: "2026.2.3"))
    edit(&s)
    return s
}

/// AWS as it would be after applying `graph` perfectly: every attribute as desired, refs resolved.
func observed(for graph: DesiredGraph) -> ObservedDeployment {
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

func plan(_ desired: DesiredGraph, _ observed: ObservedDeployment, allowReplace: Bool = false, last: DesiredGraph? = nil) -> Plan {
    Differ.plan(.init(schema: AWSSchema(), desired: desired, observed: observed, allowReplace: allowReplace, lastApplied: last, revision: "r1"))
}

/// A driver that keeps resources in memory, records the order of its calls, and can fail on demand.
actor MemoryDriverState {
    var calls: [String] = []
    var active = 0
    var maxActive = 0
    var counter = 0
    func begin(_ s: String) { calls.append(s); active += 1; maxActive = max(maxActive, active) }
    func end() { active -= 1 }
    func nextID(_ key: String) -> String { counter += 1; return "\(key)-new\(counter)" }
}

struct MemoryDriver: ActionDriver {
    let state = MemoryDriverState()
    var failOn: Set<String> = []
    var delay: Duration = .milliseconds(5)

    struct Failure: ReportableError, CustomStringConvertible {
        var errorCode: String { "InjectedFailure" }
        var errorRequestID: String? { "req-123" }
        var description: String { "injected failure" }
    }

    func step(_ name: String) async throws {
        await state.begin(name)
        try? await Task.sleep(for: delay)
        await state.end()
        if failOn.contains(name) { throw Failure() }
    }

    func create(_ component: DesiredComponent, context: StepContext) async throws -> String {
        precondition(expectNoRefs(component), "unresolved reference in \(component.key)")
        try await step("create \(component.key)")
        return await state.nextID(component.key)
    }

    func update(_ component: DesiredComponent, current: ObservedResource, changes: [AttributeChange], context: StepContext) async throws {
        try await step("update \(component.key)")
    }

    func delete(_ resource: ObservedResource, context: StepContext) async throws {
        try await step("delete \(resource.key)")
    }
}

/// Every reference must be resolved by the time a driver sees a component.
func expectNoRefs(_ component: DesiredComponent) -> Bool {
    !component.attributes.values.contains { Ref.isUnresolved($0.value) }
}
