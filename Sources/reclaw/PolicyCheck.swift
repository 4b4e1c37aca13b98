import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawTime

/// The policy command's verdict on each plan with changes, for `plan` and `apply`: printed (on
/// standard error with `--json`, which keeps standard output for the document), by deployment.
func judge(_ planned: [PlannedDeployment], gate: PolicyGate, json: Bool) async -> [String: PolicyVerdict] {
    var verdicts: [String: PolicyVerdict] = [:]
    for p in planned where p.plan.hasChanges {
        let document = PlanJSON.document([p.plan], vocabulary: TerraformVocabulary(), reclawVersion: ReclawVersion.string, timestamp: Clocks.date())
        let verdict = await gate.evaluate(planJSON: document.render(pretty: true), deployment: p.name, revision: p.plan.revision)
        verdicts[p.name] = verdict
        var text = "policy: \(p.name): \(verdict.describe(timeout: gate.timeout))"
        let lines = verdict.firstLines(20)
        if !verdict.allowed && !lines.isEmpty { text += "\n" + lines.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") }
        if json { printError(text) } else { print(text) }
    }
    return verdicts
}

/// Records a denied plan: the deployment's status says `PolicyDenied`, and the audit log holds a
/// `PolicyDenied` event with the command's output.
func recordDenial(_ p: PlannedDeployment, _ verdict: PolicyVerdict, gate: PolicyGate, runtime: Runtime) async {
    let lines = verdict.firstLines()
    let message = "the policy command refused plan \(p.plan.id): \(verdict.describe(timeout: gate.timeout))" + (lines.isEmpty ? "" : "\n\(lines)")
    do { try runtime.reconciler.recorder.policyDenied(p.name, revision: p.plan.revision, message: message) } catch {
        printError("error: \(p.name): the status cannot record the policy's refusal: \(error)")
    }
    var details: [String: JSONValue] = ["result": .string(verdict.result.rawValue), "output": .string(verdict.output), "summary": .string(p.plan.summary)]
    if let status = verdict.status { details[verdict.killedBySignal ? "signal" : "exitStatus"] = .int(Int(status)) }
    do {
        try await runtime.auditor.emit(AuditEvent(type: .policyDenied, deployment: p.name, revision: p.plan.revision, planID: p.plan.id,
                                                  errorCode: "PolicyDenied", errorMessage: message, message: "\(p.name): \(message)",
                                                  details: .object(details)))
    } catch {
        printError("error: \(p.name): the audit log cannot record the policy's refusal: \(error)")
    }
}
