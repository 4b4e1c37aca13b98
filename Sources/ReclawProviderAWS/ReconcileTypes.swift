import Foundation
import ReclawAWS
import ReclawAudit
import ReclawEngine
import ReclawSpec
import ReclawState

/// A deployment to reconcile: its spec and the revision it came from.
public struct ReconcileTarget: Sendable {
    public var spec: DeploymentSpec
    public var revision: String
    public var location: SpecLocation?

    public init(spec: DeploymentSpec, revision: String, location: SpecLocation? = nil) {
        self.spec = spec
        self.revision = revision
        self.location = location
    }
}

/// A computed plan with what it was computed from, ready to apply.
public struct PlannedDeployment: Sendable {
    public var target: ReconcileTarget?
    public var desired: DesiredGraph?
    public var observed: ObservedDeployment
    public var plan: Plan
    /// The client acting for this deployment (its role, when the spec names one).
    public var client: AWSClient
    /// A deletion of the deployment's resources in one region only (a region it moved away from,
    /// or `destroy --region`): its status stays, without that region.
    public var retiring: Bool = false

    public init(target: ReconcileTarget?, desired: DesiredGraph?, observed: ObservedDeployment, plan: Plan, client: AWSClient, retiring: Bool = false) {
        self.target = target
        self.desired = desired
        self.observed = observed
        self.plan = plan
        self.client = client
        self.retiring = retiring
    }

    public var name: String { plan.deployment }
}

/// A deployment that could not be planned, and why: AWS could not be observed, or its state could
/// not be read.
public struct PlanFailure: Error, Sendable, CustomStringConvertible {
    public enum Cause: Sendable {
        case aws(AWSError)
        case state(StateError)
        case audit(AuditLogError)
    }

    public var deployment: String
    public var cause: Cause

    public init(deployment: String, error: AWSError) {
        self.deployment = deployment
        cause = .aws(error)
    }

    public init(deployment: String, cause: Cause) {
        self.deployment = deployment
        self.cause = cause
    }

    /// AWS's error code, or reclaw's for a state or audit failure.
    public var code: String {
        switch cause {
        case .aws(let e): return e.code
        case .state(let e): return e.code.rawValue
        case .audit: return "AuditUnavailable"
        }
    }

    public var requestID: String? { awsError?.requestID }

    /// AWS's error, when AWS caused the failure.
    public var awsError: AWSError? {
        if case .aws(let e) = cause { return e }
        return nil
    }

    /// The condition reason this failure puts on the deployment.
    public var reason: ConditionReason {
        switch cause {
        case .aws: return .planFailed
        case .state: return .stateUnavailable
        case .audit: return .auditUnavailable
        }
    }

    public var message: String {
        switch cause {
        case .aws(let e): return "\(e)"
        case .state(let e): return "\(e)"
        case .audit(let e): return "the audit log cannot record the plan: \(e)"
        }
    }

    public var description: String { "\(deployment): \(message)" }
}

/// Why an apply did not start, or ended without its outcome on record. `result` is what happened
/// in AWS when the apply ran.
public struct ApplyRecordError: Error, Sendable, CustomStringConvertible {
    public var deployment: String
    public var reason: ConditionReason
    public var message: String
    public var result: ApplyResult?

    public init(deployment: String, reason: ConditionReason, message: String, result: ApplyResult? = nil) {
        self.deployment = deployment
        self.reason = reason
        self.message = message
        self.result = result
    }

    public var description: String { "\(deployment): \(message)" }
}

extension ApplyRecordError {
    /// What every apply records before it changes anything: the plan (when `recordPlan`), that the
    /// audit log takes events, and the deployment's `Applying` status. Throws, and nothing is
    /// applied, when one of them cannot be written.
    public static func recordStart(of plan: Plan, recordPlan: Bool, auditor: Auditor?, recorder: StatusRecorder) async throws(ApplyRecordError) {
        let name = plan.deployment
        do {
            if recordPlan { try await auditor?.planComputed(plan) }
            try auditor?.ensureWritable()
        } catch {
            throw ApplyRecordError(deployment: name, reason: .auditUnavailable, message: "not applied: the audit log cannot record it (\(error))")
        }
        do { try recorder.applying(plan) } catch {
            throw ApplyRecordError(deployment: name, reason: .stateUnavailable, message: "not applied: its state cannot be written (\(error))")
        }
    }
}
