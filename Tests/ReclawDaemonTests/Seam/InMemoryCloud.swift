import Foundation
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec
import Synchronization

/// The "AWS" of the in-memory reconciler: each deployment's resources as plain values, the calls
/// made to it, and the faults a test scripted for its next calls.
final class InMemoryCloud: Sendable {
    /// What the next call of a deployment does instead of (or before) its ordinary work.
    enum Fault: Sendable {
        /// Its next plan fails: AWS throttled the observation (a transient error).
        case throttled
        /// Its next apply's steps fail with this AWS error code (a real failure).
        case fails(code: String)
        /// Its next apply waits for the gate to open before it starts its steps.
        case waits(Gate)
    }

    /// One call to the reconciler, with the clock's time when it was made.
    struct Call: Sendable, Hashable {
        enum Kind: Sendable, Hashable { case plan, apply, applied, destroy }
        var kind: Kind
        var deployment: String
        var at: Duration
    }

    private struct Held {
        var deployments: [String: ObservedDeployment] = [:]
        var faults: [String: [Fault]] = [:]
        var calls: [Call] = []
        var nextID = 0
    }

    private let held = Mutex(Held())

    /// Queues faults for a deployment's next calls, in order.
    func script(_ deployment: String, _ faults: Fault...) {
        held.withLock { $0.faults[deployment, default: []] += faults }
    }

    /// Takes the deployment's next fault when `matches` says it is for this call.
    func takeFault(_ deployment: String, _ matches: (Fault) -> Bool) -> Fault? {
        held.withLock { h in
            guard let first = h.faults[deployment]?.first, matches(first) else { return nil }
            h.faults[deployment]!.removeFirst()
            return first
        }
    }

    func record(_ kind: Call.Kind, _ deployment: String, at: Duration) {
        held.withLock { $0.calls.append(Call(kind: kind, deployment: deployment, at: at)) }
    }

    /// Every call made so far, in order.
    var calls: [Call] { held.withLock { $0.calls } }

    func calls(_ kind: Call.Kind, _ deployment: String) -> [Call] { calls.filter { $0.kind == kind && $0.deployment == deployment } }

    /// What a deployment holds now.
    func resources(_ deployment: String) -> ObservedDeployment { held.withLock { $0.deployments[deployment] } ?? ObservedDeployment(deployment: deployment) }

    /// Changes an attribute behind reclaw's back (drift).
    func change(_ deployment: String, _ key: ComponentKey, _ attribute: String, to value: JSONValue) {
        held.withLock { h in
            guard var r = h.deployments[deployment]?.resources[key]?.first else { return }
            r.attributes[attribute] = value
            h.deployments[deployment]!.resources[key] = [r]
        }
    }

    func attribute(_ deployment: String, _ key: ComponentKey, _ attribute: String) -> JSONValue? {
        resources(deployment)[key]?.attributes[attribute]
    }

    // MARK: what the driver does

    func create(_ deployment: String, _ component: DesiredComponent, ids: [ComponentKey: String]) -> String {
        held.withLock { h in
            h.nextID += 1
            let id = "\(component.key)-\(h.nextID)"
            let resource = ObservedResource(key: component.key, kind: component.kind, id: id,
                                            attributes: component.attributes.mapValues { Ref.resolve($0.value, ids: ids) }, tags: component.tags)
            h.deployments[deployment, default: ObservedDeployment(deployment: deployment)].resources[component.key] = [resource]
            return id
        }
    }

    func update(_ deployment: String, _ component: DesiredComponent, id: String, ids: [ComponentKey: String]) {
        held.withLock { h in
            guard var r = h.deployments[deployment]?.resources[component.key]?.first(where: { $0.id == id }) else { return }
            for (name, a) in component.attributes where a.update != .createOnly { r.attributes[name] = Ref.resolve(a.value, ids: ids) }
            r.tags = component.tags
            h.deployments[deployment]!.resources[component.key] = [r]
        }
    }

    func delete(_ deployment: String, id: String) {
        held.withLock { h in
            guard var d = h.deployments[deployment] else { return }
            d.resources = d.resources.compactMapValues { rs in
                let left = rs.filter { $0.id != id }
                return left.isEmpty ? nil : left
            }
            h.deployments[deployment] = d.isEmpty ? nil : d
        }
    }
}

/// A door a test opens: an apply waiting at it holds until then.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiting.append(c)
                return false
            }
            if go { c.resume() }
        }
    }

    /// How many wait at the gate now.
    var waiting: Int { state.withLock { $0.waiting.count } }

    func open() {
        let waiting = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiting = [] }
            return s.waiting
        }
        for c in waiting { c.resume() }
    }
}

/// A deployment's desired resources, in small: its security group's ingress and two parameters.
enum InMemoryGraph {
    static func build(_ spec: DeploymentSpec) -> DesiredGraph {
        let tags = ["reclaw:deployment": spec.name]
        func component(_ key: ComponentKey, _ attributes: [String: DesiredAttribute]) -> DesiredComponent {
            DesiredComponent(key: key, kind: Components.kind(of: key) ?? ResourceKind(key), attributes: attributes, tags: tags)
        }
        return DesiredGraph(deployment: spec.name, region: spec.region, components: [
            component(Components.instanceSG, ["ingress": DesiredAttribute(.array([]))]),
            component(Components.version, ["value": DesiredAttribute(.string(spec.openclaw.version))]),
            component(Components.gatewayPort, ["value": DesiredAttribute(.string("\(spec.openclaw.gatewayPort)"))]),
        ])
    }
}

/// How the in-memory resources compare: ingress as a set, everything else value for value.
struct InMemorySchema: ProviderSchema {
    func kind(of key: ComponentKey) -> ResourceKind? { Components.kind(of: key) ?? ResourceKind(key) }
    func dependencies(of key: ComponentKey) -> [ComponentKey] { [] }
    func isGlobal(_ kind: ResourceKind) -> Bool { false }
    func rule(_ attribute: String, of kind: ResourceKind) -> AttributeRule { attribute == "ingress" ? AttributeRule(.set) : .exact }
    var convergences: [Convergence] { [] }
    func notes(_ observed: ObservedDeployment) -> [String] { [] }
    var globalKindsInWords: String { "none" }
    func comparableTags(_ tags: [String: String]) -> [String: String] { tags }
    func userTags(_ tags: [String: String]) -> [String: String] { [:] }
}
