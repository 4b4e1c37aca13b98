import ArgumentParser
import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawState
import ReclawTime

/// `reclaw destroy`: delete one deployment's resources, dependents first.
struct DestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Delete one deployment's resources in reverse dependency order.")

    @Option(help: "The deployment to destroy.") var deployment: String
    @Argument(help: "A local directory or git URL holding the deployment's spec (for its region and role).") var source: String?
    @Option(help: "The branch, tag or commit of a git source.") var ref: String = "main"
    @Option(help: "The directory of the source that holds the specs.") var path: String = "."
    @Option(help: "Only this region (default: every region reclaw's state records, or the spec's). The IAM role and instance profile stay while another recorded region uses them.") var region: String?
    @Flag(help: "Destroy without asking.") var autoApprove = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let runtime = Runtime(global: global, options: runtimeOptions, settings: operatorOptions.providerSettings)
        let lock = try runtime.lockState(purpose: "reclaw destroy")
        defer { withExtendedLifetime(lock) {} }
        var specRegion: String?
        var roleArn: String?
        var revision = "destroy"
        if let source {
            let options = try SourceOptions.parse([source, "--ref", ref, "--path", path])
            let (targets, _, rev) = try await runtime.targets(options)
            if let t = targets.first(where: { $0.spec.name == deployment }) {
                specRegion = t.spec.region
                roleArn = t.spec.roleArn
                revision = rev
            }
        }
        let status: DeploymentStatus?
        do { status = try runtime.state.load(deployment) } catch {
            throw CLIError("cannot read what reclaw knows of '\(deployment)': \(error)")
        }
        roleArn = roleArn ?? status?.lastAppliedSpec?.roleArn
        // Every region that may hold the deployment's resources, unless one is named.
        let regions = region.map { [$0] } ?? Array(Set((status?.resourceRegions ?? []) + (specRegion.map { [$0] } ?? []))).sorted()
        guard !regions.isEmpty else {
            throw CLIError("the region of '\(deployment)' is unknown: pass the source that holds its spec, or --region")
        }
        let plans: [PlannedDeployment]
        do {
            plans = try await runtime.reconciler.destroyPlans(deployment: deployment, status: status, regions: regions, roleArn: roleArn, revision: revision)
        } catch {
            throw CLIError("cannot observe \(deployment) in \(error.region): \(error)")
        }
        print(plans.map { PlanRenderer.text($0.plan) }.joined(separator: "\n\n"))
        if let kept = plans.last, kept.retiring {
            let others = Set(status?.resourceRegions ?? []).subtracting(regions).sorted().joined(separator: ", ")
            print("\nThe IAM role and instance profile stay: the deployment's resources in \(others) use them.")
        }
        guard plans.contains(where: \.plan.hasChanges) else {
            do {
                if plans.last?.retiring == true {
                    try runtime.state.update(deployment) { s in s.regions.removeAll { regions.contains($0) } }
                } else {
                    try runtime.state.remove(deployment)
                }
            } catch { throw CLIError("\(error)") }
            return
        }
        if !autoApprove {
            guard try confirm("Destroy every resource of \(deployment) in \(regions.joined(separator: ", "))?") else {
                printError("Destroy cancelled.")
                throw ExitCode(1)
            }
        }
        // One region after the other: the IAM role and instance profile go last.
        for planned in plans {
            if try await !applyAll(runtime, [planned], recordPlan: true) { throw ExitCode(1) }
        }
    }
}

/// `reclaw drift`: compare AWS with what reclaw last applied, and say who changed it.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drift", abstract: "One drift check against the last applied revision.")

    @OptionGroup var sourceOptions: SourceOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Exit 2 when there is drift, 0 when there is none.") var detailedExitcode = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // Read-only: DriftDetected goes to the audit log only when --audit-log names one.
        let runtime = Runtime(global: global, options: runtimeOptions, settings: operatorOptions.providerSettings, audit: .whenAsked)
        let scan: StatusScan
        do { scan = try runtime.state.scan() } catch { throw CLIError("\(error)") }
        for (name, error) in scan.unreadable.sorted(by: { $0.key < $1.key }) { printError("error: cannot check \(name): \(error)") }
        var statuses = scan.statuses.filter { $0.lastAppliedSpec != nil }
        if sourceOptions.source != "." || !sourceOptions.deployments.isEmpty {
            let (targets, _, _) = try await runtime.targets(sourceOptions)
            let names = Set(targets.map(\.spec.name))
            statuses = statuses.filter { names.contains($0.deployment) }
        }
        guard !statuses.isEmpty else {
            printError("no deployment has been applied yet (state directory \(runtime.state.directory))")
            throw ExitCode(1)
        }
        let log = runtime.auditLog
        let checker = DriftChecker(reconciler: runtime.reconciler, ownRequestIDs: { log.requestIDs() })
        var failed = !scan.unreadable.isEmpty
        var findings: [DriftFinding] = []
        var clean: [String] = []
        for (status, result) in zip(statuses, await checker.check(statuses)) {
            switch result {
            case .failure(let f):
                printError("error: cannot check \(f.description)")
                failed = true
            case .success(nil):
                clean.append(status.deployment)
            case .success(let finding?):
                findings.append(finding)
                guard runtime.auditing else { continue }
                do { try await runtime.auditor.emit(DriftChecker.event(finding, corrected: false)) } catch {
                    printError("error: the audit log cannot record the drift of \(finding.deployment): \(error)")
                    failed = true
                }
            }
        }
        if json {
            print(Self.report(findings, clean: clean, errored: failed).render(pretty: true))
        } else {
            for name in clean { print("\(name): no drift from its last applied revision.") }
            for f in findings {
                print(PlanRenderer.text(f.planned.plan))
                if f.attribution.isEmpty {
                    print(f.attributionStatus == "pending" ? "Changed by: not known yet; CloudTrail has not delivered the change (it lags 5 to 15 minutes)."
                                                           : "Changed by: CloudTrail could not be asked.")
                } else {
                    for a in f.attribution {
                        print("Changed by: \(a.userIdentityArn ?? "unknown") with key \(a.accessKeyId ?? "unknown") from \(a.sourceIPAddress ?? "unknown"): \(a.eventName) at \(a.eventTime) (CloudTrail event \(a.cloudTrailEventID))")
                    }
                }
            }
        }
        if failed { throw ExitCode(1) }
        if detailedExitcode && !findings.isEmpty { throw ExitCode(2) }
    }

    /// The same Terraform-shaped document as `plan --json` (docs/plan-json.md): the drift in
    /// `resource_drift[]`, the correction in `resource_changes[]`, and each drifted deployment's
    /// entry in `plans[]` with its `diff` and who made the change.
    static func report(_ findings: [DriftFinding], clean: [String], errored: Bool) -> JSONValue {
        var extras: PlanJSON.PlanExtras = [:]
        for f in findings {
            extras[f.deployment] = ["diff": f.diff, "attributionStatus": .string(f.attributionStatus),
                                    "attribution": .array(f.attribution.map(attribution))]
        }
        return PlanJSON.document(findings.map(\.planned.plan), vocabulary: TerraformVocabulary(), reclawVersion: ReclawVersion.string, timestamp: Clocks.date(), errored: errored,
                                 planExtras: extras, extra: ["clean": .array(clean.map { .string($0) })])
    }

    static func attribution(_ a: AuditEvent.Attribution) -> JSONValue {
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return ["eventName": .string(a.eventName), "eventTime": .string(a.eventTime), "userIdentityArn": text(a.userIdentityArn),
                "accessKeyId": text(a.accessKeyId), "sourceIPAddress": text(a.sourceIPAddress), "cloudTrailEventID": .string(a.cloudTrailEventID)]
    }
}
