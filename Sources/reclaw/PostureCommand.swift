import ArgumentParser
import Foundation
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS

/// `reclaw posture`: the seed's security table, checked for each deployment against what AWS has
/// now, one line per promise with its evidence. Changes nothing.
struct PostureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "posture",
        abstract: "Check each deployment against the seed's security promises; exit 2 when one does not hold.",
        discussion: """
        Observes AWS (the batched read of a plan) and checks, for each deployment reclaw applied: no inbound rule, \
        IMDSv2 required, an encrypted root volume, endpoints with private DNS and VPC DNS on, the private subnet \
        private, the role's policies exact with the CalledViaLast condition and SSM access limited to the \
        deployment's prefix, the instance's profile being reclaw's, and the operator's permissions boundary. \
        Exit codes: 0 every promise holds, 2 one does not, 1 a deployment could not be observed.
        """)

    @OptionGroup var sourceOptions: SourceOptions
    @Flag(help: "Print the result as one JSON document.") var json = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let runtime = Runtime(global: global, options: runtimeOptions, settings: operatorOptions.providerSettings, audit: .whenAsked)
        let targets = try await self.targets(runtime)
        guard !targets.isEmpty else {
            printError("no deployment to check: none has been applied from state directory \(runtime.state.directory), and no SOURCE names one")
            throw ExitCode(1)
        }
        var reports: [(ReconcileTarget, [PostureCheck])] = []
        var failed: [PlanFailure] = []
        for result in await runtime.reconciler.plan(targets, record: false, warn: false) {
            switch result {
            case .failure(let f): failed.append(f)
            case .success(let planned):
                guard let desired = planned.desired, let target = planned.target else { continue }
                reports.append((target, Posture.evaluate(desired: desired, observed: planned.observed)))
            }
        }
        if json {
            print(Self.json(reports, failed: failed).render(pretty: true))
        } else {
            for f in failed { printError("error: cannot observe \(f.description)") }
            print(reports.map { Self.text($0.0, $0.1) }.joined(separator: "\n\n"))
        }
        if !failed.isEmpty { throw ExitCode(1) }
        if reports.contains(where: { !Posture.holds($0.1) }) { throw ExitCode(2) }
    }

    /// The deployments reclaw last applied, each with the spec in force (its last applied one);
    /// narrowed by SOURCE or --deployment, whose own spec stands in for one never applied here.
    func targets(_ runtime: Runtime) async throws -> [ReconcileTarget] {
        let applied = try runtime.state.all().filter { $0.lastAppliedSpec != nil }
        let inForce = applied.map { ReconcileTarget(spec: $0.lastAppliedSpec!, revision: $0.lastAppliedRevision ?? "unknown") }
        guard sourceOptions.source != "." || !sourceOptions.deployments.isEmpty else { return inForce }
        let (fromSource, _, _) = try await runtime.targets(sourceOptions)
        return fromSource.map { t in inForce.first { $0.spec.name == t.spec.name } ?? t }
    }

    static func label(_ status: PostureCheck.Status) -> String {
        switch status {
        case .held: return "held    "
        case .notHeld: return "NOT HELD"
        case .notApplicable: return "n/a     "
        }
    }

    static func text(_ target: ReconcileTarget, _ checks: [PostureCheck]) -> String {
        var lines = ["\(target.spec.name) (\(target.spec.region))"]
        for c in checks { lines.append("  \(label(c.status))  \(c.promise): \(c.evidence.joined(separator: "; "))") }
        let broken = checks.filter { $0.status == .notHeld }.count
        lines.append(broken == 0 ? "\(target.spec.name): every promise holds."
                                 : "\(target.spec.name): \(broken) of \(checks.count) promises not held.")
        return lines.joined(separator: "\n")
    }

    static func json(_ reports: [(ReconcileTarget, [PostureCheck])], failed: [PlanFailure]) -> JSONValue {
        [
            "deployments": .array(reports.map { target, checks in
                [
                    "deployment": .string(target.spec.name), "region": .string(target.spec.region), "held": .bool(Posture.holds(checks)),
                    "promises": .array(checks.map { c in
                        ["id": .string(c.id), "promise": .string(c.promise), "status": .string(c.status.rawValue),
                         "evidence": .array(c.evidence.map { .string($0) })]
                    }),
                ]
            }),
            "failed": .array(failed.map { ["deployment": .string($0.deployment), "error": .string($0.message)] }),
        ]
    }
}
