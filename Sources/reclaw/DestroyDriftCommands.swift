import ArgumentParser
import Foundation
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS

/// `reclaw destroy`: delete one deployment's resources, dependents first.
struct DestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Delete one deployment's resources in reverse dependency order.")

    @Option(help: "The deployment to destroy.") var deployment: String
    @Argument(help: "A local directory or git URL holding the deployment's spec (for its region and role).") var source: String?
    @Option(help: "The branch, tag or commit of a git source.") var ref: String = "main"
    @Option(help: "The directory of the source that holds the specs.") var path: String = "."
    @Option(help: "The region, when neither the source nor reclaw's state knows it.") var region: String?
    @Flag(help: "Destroy without asking.") var autoApprove = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let runtime = Runtime(global: global, options: runtimeOptions)
        var region = region
        var roleArn: String?
        var revision = "destroy"
        if let source {
            let options = try SourceOptions.parse([source, "--ref", ref, "--path", path])
            let (targets, _, rev) = try await runtime.targets(options)
            if let t = targets.first(where: { $0.spec.name == deployment }) {
                region = region ?? t.spec.region
                roleArn = t.spec.roleArn
                revision = rev
            }
        }
        if region == nil || roleArn == nil, let status = try? runtime.state.load(deployment) {
            region = region ?? status.region
            roleArn = roleArn ?? status.lastAppliedSpec?.roleArn
        }
        guard let region else {
            throw CLIError("the region of '\(deployment)' is unknown: pass the source that holds its spec, or --region")
        }
        let planned: PlannedDeployment
        do {
            planned = try await runtime.reconciler.destroyPlan(deployment: deployment, region: region, roleArn: roleArn, revision: revision)
        } catch {
            throw CLIError("cannot observe \(deployment) in \(region): \(error)")
        }
        print(PlanRenderer.text(planned.plan))
        guard planned.plan.hasChanges else {
            try? runtime.state.remove(deployment)
            return
        }
        if !autoApprove {
            guard try confirm("Destroy every resource of \(deployment)?") else {
                printError("Destroy cancelled.")
                throw ExitCode(1)
            }
        }
        if try await !applyAll(runtime, [planned]) { throw ExitCode(1) }
    }
}

/// `reclaw drift`: compare AWS with what reclaw last applied.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drift", abstract: "One drift check against the last applied revision.")

    @OptionGroup var sourceOptions: SourceOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Exit 2 when there is drift, 0 when there is none.") var detailedExitcode = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let runtime = Runtime(global: global, options: runtimeOptions)
        var statuses = try runtime.state.all().filter { $0.lastAppliedSpec != nil }
        if sourceOptions.source != "." || !sourceOptions.deployments.isEmpty {
            let (targets, _, _) = try await runtime.targets(sourceOptions)
            let names = Set(targets.map(\.spec.name))
            statuses = statuses.filter { names.contains($0.deployment) }
        }
        guard !statuses.isEmpty else {
            printError("no deployment has been applied yet (state directory \(runtime.state.directory))")
            throw ExitCode(1)
        }
        // Plan each deployment against the spec it was last applied with: the differences are drift.
        let targets = statuses.map { ReconcileTarget(spec: $0.lastAppliedSpec!, revision: $0.lastAppliedRevision ?? "unknown") }
        var plans: [Plan] = []
        var failed = false
        for result in await runtime.reconciler.plan(targets) {
            switch result {
            case .success(let p): plans.append(p.plan)
            case .failure(let f):
                printError("error: cannot check \(f.description)")
                failed = true
            }
        }
        if json {
            print(PlanRenderer.json(plans).render(pretty: true))
        } else {
            for plan in plans {
                if plan.drift.isEmpty && !plan.hasChanges {
                    print("\(plan.deployment): no drift from revision \(plan.revision).")
                } else {
                    print(PlanRenderer.text(plan))
                }
            }
        }
        if failed { throw ExitCode(1) }
        if detailedExitcode && plans.contains(where: { !$0.drift.isEmpty || $0.hasChanges }) { throw ExitCode(2) }
    }
}
