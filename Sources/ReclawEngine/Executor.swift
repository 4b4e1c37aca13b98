import Foundation
import ReclawJSON
import Synchronization

/// An error that carries AWS's code and request id, so failures are reported with both.
public protocol ReportableError: Error {
    var errorCode: String { get }
    var errorRequestID: String? { get }
}

/// Where a step runs: the deployment, the plan, and the ids known so far.
public struct StepContext: Sendable {
    public var deployment: String
    public var region: String
    public var planID: String
    public var revision: String
    public var key: ComponentKey
    public var ids: [ComponentKey: String]
}

/// Carries out one step against a provider. Create returns the new resource's id.
public protocol ActionDriver: Sendable {
    func create(_ component: DesiredComponent, context: StepContext) async throws -> String
    func update(_ component: DesiredComponent, current: ObservedResource, changes: [AttributeChange], context: StepContext) async throws
    func delete(_ resource: ObservedResource, context: StepContext) async throws
}

/// One unit of work of an apply.
public struct Step: Sendable, Hashable, CustomStringConvertible {
    public enum Operation: String, Sendable, Codable { case create, update, delete }
    public var key: ComponentKey
    public var operation: Operation
    /// The resource acted on (updates and deletes).
    public var resourceID: String?
    public var kind: ResourceKind

    public init(key: ComponentKey, operation: Operation, resourceID: String?, kind: ResourceKind) {
        self.key = key
        self.operation = operation
        self.resourceID = resourceID
        self.kind = kind
    }

    public var description: String { "\(operation.rawValue) \(key)\(resourceID.map { " (\($0))" } ?? "")" }
}

/// How one step ended.
public struct StepOutcome: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        case succeeded
        case failed(message: String, code: String?, requestID: String?)
        /// Not run because something it depends on failed.
        case skipped(String)
        /// Not run because the plan holds it back.
        case blocked(String)
        /// Not started because reclaw is shutting down.
        case notStarted
    }

    public var step: Step
    public var status: Status
    /// The resource's id afterwards (new for creates).
    public var resourceID: String?

    public init(step: Step, status: Status, resourceID: String? = nil) {
        self.step = step
        self.status = status
        self.resourceID = resourceID
    }

    public var succeeded: Bool { status == .succeeded }
}

/// The outcome of applying a plan.
public struct ApplyResult: Sendable {
    public var outcomes: [StepOutcome]
    /// Resource ids after the apply, by component.
    public var ids: [ComponentKey: String]
    /// Why the apply's record could not be written, if it could not (the apply then stopped starting steps).
    public var recordFailure: String?

    public init(outcomes: [StepOutcome], ids: [ComponentKey: String], recordFailure: String? = nil) {
        self.outcomes = outcomes
        self.ids = ids
        self.recordFailure = recordFailure
    }

    public var failed: [StepOutcome] { outcomes.filter { if case .failed = $0.status { return true }; return false } }
    public var problems: [StepOutcome] { outcomes.filter { !$0.succeeded } }
    /// Every step succeeded, nothing was held back, and every step is on record.
    public var converged: Bool { problems.isEmpty && recordFailure == nil }
}

/// Told about every step as it starts and ends, and awaited, so records are durable before the
/// apply goes on. A step whose start cannot be recorded is not started; once a record fails, no
/// further step starts.
public protocol ExecutionObserver: Sendable {
    func stepStarted(_ step: Step, context: StepContext) async throws
    func stepFinished(_ outcome: StepOutcome, context: StepContext) async throws
}

/// Applies a plan: deletions first (dependents before what they depend on), then creations and
/// updates in dependency order, running independent steps concurrently within a bound. A failed
/// step stops only the steps that depend on it.
public struct Executor: Sendable {
    public var concurrency: Int
    public var driver: any ActionDriver
    public var observer: (any ExecutionObserver)?
    /// Checked before each step starts: once true, no new step starts (graceful shutdown).
    public var shouldStop: @Sendable () -> Bool

    public init(driver: any ActionDriver, concurrency: Int = 8, observer: (any ExecutionObserver)? = nil,
                shouldStop: @escaping @Sendable () -> Bool = { false }) {
        self.driver = driver
        self.concurrency = max(1, concurrency)
        self.observer = observer
        self.shouldStop = shouldStop
    }

    public func apply(_ plan: Plan, desired: DesiredGraph?, observed: ObservedDeployment) async -> ApplyResult {
        let ids = IDTable(observed.ids)
        let records = RecordFailure()
        var outcomes: [StepOutcome] = []
        let resourcesByID = Dictionary(observed.resources.values.flatMap { $0 }.map { ("\($0.key)/\($0.id)", $0) }, uniquingKeysWith: { a, _ in a })

        // Blocked actions are reported, never run.
        for action in plan.actions where action.blocked != nil {
            outcomes.append(StepOutcome(step: Step(key: action.key, operation: action.kind == .create ? .create : .update, resourceID: action.resourceID, kind: action.resourceKind),
                                        status: .blocked(action.blocked!), resourceID: action.resourceID))
        }
        // Nothing deletes or replaces what a blocked action concerns: a blocked step blocks.
        let blockedKeys = plan.blockedKeys
        for action in plan.actions where action.blocked == nil && blockedKeys.contains(action.key) && (action.kind == .delete || action.kind == .replace) {
            outcomes.append(StepOutcome(step: Step(key: action.key, operation: .delete, resourceID: action.resourceID, kind: action.resourceKind),
                                        status: .blocked("held back: another step on \(action.key) is blocked"), resourceID: action.resourceID))
        }
        let runnable = plan.actions.filter {
            $0.blocked == nil && $0.kind != .noop && !(blockedKeys.contains($0.key) && ($0.kind == .delete || $0.kind == .replace))
        }

        // Phase 1: deletions and the removal half of replacements.
        let deletions = runnable.filter { $0.kind == .delete || $0.kind == .replace }.map {
            Step(key: $0.key, operation: .delete, resourceID: $0.resourceID, kind: $0.resourceKind)
        }
        let deleteKeys = Set(deletions.map(\.key))
        let deleteDeps: (Step) -> [Step] = { step in
            // A deletion waits for the deletions of everything that depends on it.
            deletions.filter { other in other != step && (plan.dependencies[other.key] ?? []).contains(step.key) && deleteKeys.contains(other.key) }
        }
        let phase1 = await run(deletions, dependencies: deleteDeps, plan: plan, ids: ids, records: records) { step, context in
            guard let resource = resourcesByID["\(step.key)/\(step.resourceID ?? "")"] else { return nil }
            try await driver.delete(resource, context: context)
            await ids.remove(step.key, ifID: resource.id)
            return nil
        }
        outcomes += phase1

        // Phase 2: creations, updates, and the creation half of replacements.
        let failedReplacements = Set(phase1.filter { !$0.succeeded }.map(\.step.key))
        var builds: [Step] = []
        let building = Set(runnable.filter { $0.kind != .delete }.map(\.key))
        let known = await ids.all
        for action in runnable where action.kind != .delete {
            let op: Step.Operation = action.kind == .update ? .update : .create
            let step = Step(key: action.key, operation: op, resourceID: action.kind == .update ? action.resourceID : nil, kind: action.resourceKind)
            if failedReplacements.contains(action.key) {
                outcomes.append(StepOutcome(step: step, status: .skipped("removing the old \(action.key) failed"), resourceID: action.resourceID))
                continue
            }
            // A step built on a component that neither exists nor is being built (it is held back)
            // would act on an unresolved reference: held back too.
            let deps = desired?[action.key]?.dependsOn ?? plan.dependencies[action.key] ?? []
            if let missing = deps.first(where: { known[$0] == nil && !building.contains($0) && desired?[$0] != nil }) {
                outcomes.append(StepOutcome(step: step, status: .blocked("held back: \(missing) is neither there nor being built"), resourceID: action.resourceID))
                continue
            }
            builds.append(step)
        }
        let buildKeys = Set(builds.map(\.key))
        let buildDeps: (Step) -> [Step] = { step in
            let deps = desired?[step.key]?.dependsOn ?? plan.dependencies[step.key] ?? []
            return builds.filter { deps.contains($0.key) && buildKeys.contains($0.key) }
        }
        let actionsByKey = Dictionary(runnable.filter { $0.kind != .delete }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        outcomes += await run(builds, dependencies: buildDeps, plan: plan, ids: ids, records: records) { step, context in
            guard let component = desired?[step.key] else { return nil }
            var resolved = component
            resolved.attributes = component.attributes.mapValues { a in
                var a = a
                a.value = Ref.resolve(a.value, ids: context.ids)
                return a
            }
            switch step.operation {
            case .create:
                let id = try await driver.create(resolved, context: context)
                await ids.set(step.key, id)
                return id
            case .update:
                guard let current = observed[step.key] else { return nil }
                try await driver.update(resolved, current: current, changes: actionsByKey[step.key]?.changes ?? [], context: context)
                return current.id
            case .delete:
                return nil
            }
        }
        return ApplyResult(outcomes: outcomes, ids: await ids.all, recordFailure: records.first)
    }
}

/// The first failure to record a step; once set, no further step starts.
final class RecordFailure: Sendable {
    private let value = Mutex<String?>(nil)
    var first: String? { value.withLock { $0 } }
    func note(_ message: String) { value.withLock { if $0 == nil { $0 = message } } }
}

/// Resource ids known during an apply, shared by concurrent steps.
actor IDTable {
    private var ids: [ComponentKey: String]
    init(_ ids: [ComponentKey: String]) { self.ids = ids }
    var all: [ComponentKey: String] { ids }
    func set(_ key: ComponentKey, _ id: String) { ids[key] = id }
    func remove(_ key: ComponentKey, ifID id: String) { if ids[key] == id { ids[key] = nil } }
}
