import Foundation
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawController
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import ReclawState

extension ReconcileDaemon {
    /// Runs the operator's policy command on a deployment's plan before it is applied. A denied
    /// plan applies nothing: the status says `PolicyDenied` with the first lines of the command's
    /// output, the audit log records a `PolicyDenied` event with the output (bounded), and one
    /// alert goes out per deployment and revision. A denied drift correction leaves the drift,
    /// which is alerted as uncorrected.
    func policyAllows(_ p: PlannedDeployment, gate: PolicyGate, reasons: Set<WorkReason>) async -> Bool {
        let name = p.name
        let document = PlanJSON.document([p.plan], vocabulary: TerraformVocabulary(), reclawVersion: ReclawVersion.string, timestamp: clock.date())
        let verdict = await gate.evaluate(planJSON: document.render(pretty: true), deployment: name, revision: p.plan.revision)
        metrics.policyEvaluated(deployment: name, result: verdict.result)
        guard !verdict.allowed else {
            logger.info("the policy command allows the plan", metadata: ["deployment": "\(name)", "plan.id": "\(p.plan.id)"])
            return true
        }
        let outcome = verdict.describe(timeout: gate.timeout)
        let lines = verdict.firstLines()
        let message = "the policy command refused plan \(p.plan.id): \(outcome)" + (lines.isEmpty ? "" : "\n\(lines)")
        logger.error("the policy command refused the plan; nothing was applied",
                     metadata: ["deployment": "\(name)", "plan.id": "\(p.plan.id)", "policy.result": "\(verdict.result.rawValue)",
                                "output": "\(LoggedText.bounded(lines, limit: 1024))"])
        do { try reconciler.recorder.policyDenied(name, revision: p.plan.revision, message: message) } catch {
            logger.error("the deployment's status cannot record the policy's refusal: \(error)", metadata: ["deployment": "\(name)"])
        }
        var details: [String: JSONValue] = ["result": .string(verdict.result.rawValue), "output": .string(verdict.output),
                                            "summary": .string(p.plan.summary)]
        if let status = verdict.status { details[verdict.killedBySignal ? "signal" : "exitStatus"] = .int(Int(status)) }
        await emit(AuditEvent(type: .policyDenied, time: clock.date(), deployment: name, revision: p.plan.revision, planID: p.plan.id,
                              errorCode: ConditionReason.policyDenied.rawValue, errorMessage: message,
                              message: "\(name): \(message)", details: .object(details)),
                   alertKey: "policy/\(name)/\(p.plan.revision)")
        if reasons.contains(.driftCorrection) { await correctionFailed(name) }
        return false
    }
}
