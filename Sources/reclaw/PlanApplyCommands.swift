import ArgumentParser
import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawProviderAWS
import ReclawTime

/// `reclaw plan`: observe AWS and print what apply would do. Changes nothing.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Observe AWS and print the plan; changes nothing.")

    @OptionGroup var sourceOptions: SourceOptions
    @Flag(help: "Print the plans as one JSON document.") var json = false
    @Flag(help: "Exit 2 when there are changes, 0 when there are none.") var detailedExitcode = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // Read-only: nothing goes to the audit log unless --audit-log names one.
        let runtime = Runtime(global: global, options: runtimeOptions, settings: operatorOptions.providerSettings, audit: .whenAsked)
        let (plans, failed) = try await planAll(runtime, sourceOptions, record: runtime.auditing)
        show(plans.map(\.plan), json: json, errored: failed)
        if let gate = policyOptions.gate(), await judge(plans, gate: gate, json: json).values.contains(where: { !$0.allowed }) {
            throw ExitCode(1)
        }
        if failed { throw ExitCode(1) }
        if detailedExitcode && plans.contains(where: { $0.plan.hasChanges }) { throw ExitCode(2) }
    }
}

/// `reclaw apply`: plan, confirm, apply.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Plan, then apply (asks on a terminal unless --auto-approve).")

    @OptionGroup var sourceOptions: SourceOptions
    @Flag(help: "Print the plans as one JSON document.") var json = false
    @Flag(help: "Exit 2 when changes were applied, 0 when there were none.") var detailedExitcode = false
    @Flag(help: "Apply without asking.") var autoApprove = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let runtime = Runtime(global: global, options: runtimeOptions, settings: operatorOptions.providerSettings)
        let lock = try runtime.lockState(purpose: "reclaw apply")
        defer { withExtendedLifetime(lock) {} }
        // The plan is recorded when it is applied (PlanComputed precedes its first step).
        let (plans, failed) = try await planAll(runtime, sourceOptions, record: false)
        show(plans.map(\.plan), json: json, errored: failed)
        var changing = plans.filter { $0.plan.hasChanges }
        var allowed = plans
        if let gate = policyOptions.gate() {
            // A denied plan applies nothing; the others go ahead.
            let verdicts = await judge(plans, gate: gate, json: json)
            for p in plans { if let v = verdicts[p.name], !v.allowed { await recordDenial(p, v, gate: gate, runtime: runtime) } }
            allowed = plans.filter { verdicts[$0.name]?.allowed ?? true }
            changing = allowed.filter { $0.plan.hasChanges }
        }
        let denied = allowed.count < plans.count
        if !changing.isEmpty && !autoApprove {
            guard try confirm("Apply \(changing.count == 1 ? "these changes" : "the changes to \(changing.count) deployments")?") else {
                printError("Apply cancelled.")
                throw ExitCode(1)
            }
        }
        // Plans without changes are applied too, with no AWS call: that records the revision as
        // applied, the baseline drift is measured against, as the daemon does.
        let converged = try await applyAll(runtime, allowed)
        if failed || !converged || denied { throw ExitCode(1) }
        if detailedExitcode && !changing.isEmpty { throw ExitCode(2) }
    }
}

/// Plans every deployment of the source; true in the second place when something failed.
/// `record` writes each plan to the audit log as PlanComputed.
func planAll(_ runtime: Runtime, _ options: SourceOptions, record: Bool) async throws -> ([PlannedDeployment], Bool) {
    let (targets, load, _) = try await runtime.targets(options)
    var failed = load.hasErrors && (options.deployments.isEmpty || !Set(options.deployments).isDisjoint(with: load.invalidDeployments.keys))
    var planned: [PlannedDeployment] = []
    for result in await runtime.reconciler.plan(targets, record: record) {
        switch result {
        case .success(let p): planned.append(p)
        case .failure(let f):
            printError("error: cannot plan \(f.description)")
            failed = true
        }
    }
    return (planned, failed)
}

/// Prints the plans: the text blocks, or the Terraform-shaped JSON document (docs/plan-json.md).
func show(_ plans: [Plan], json: Bool, errored: Bool) {
    if json {
        print(PlanRenderer.json(plans, vocabulary: TerraformVocabulary(), reclawVersion: ReclawVersion.string, timestamp: Clocks.date(), errored: errored).render(pretty: true))
    } else {
        print(plans.map(PlanRenderer.text).joined(separator: "\n\n"))
    }
}

/// Applies plans concurrently; prints every step; true when all converged. An apply whose start or
/// outcome cannot be recorded (state or audit log) counts as not converged, and says why.
func applyAll(_ runtime: Runtime, _ planned: [PlannedDeployment], recordPlan: Bool = false) async throws -> Bool {
    let results = await withTaskGroup(of: (PlannedDeployment, Result<ApplyResult, ApplyRecordError>).self) { group in
        for p in planned {
            group.addTask {
                do throws(ApplyRecordError) {
                    return (p, .success(try await runtime.reconciler.apply(p, recordPlan: recordPlan || p.plan.hasChanges)))
                } catch {
                    return (p, .failure(error))
                }
            }
        }
        var out: [(PlannedDeployment, Result<ApplyResult, ApplyRecordError>)] = []
        for await r in group { out.append(r) }
        return out.sorted { $0.0.name < $1.0.name }
    }
    var converged = true
    for (p, outcome) in results {
        let result: ApplyResult
        switch outcome {
        case .success(let r): result = r
        case .failure(let error):
            converged = false
            if let r = error.result {
                for o in r.outcomes { print(describe(o, deployment: p.name)) }
            }
            printError("error: \(error)")
            continue
        }
        converged = converged && result.converged
        guard p.plan.hasChanges || !result.converged else { continue }
        print("")
        for o in result.outcomes { print(describe(o, deployment: p.name)) }
        if let failure = result.recordFailure { printError("error: \(p.name): the audit log cannot record the apply: \(failure)") }
        let ok = result.outcomes.filter(\.succeeded).count
        print("\(p.name): \(result.converged ? "apply complete" : "apply incomplete"): \(ok) of \(result.outcomes.count) steps done.")
    }
    return converged
}
