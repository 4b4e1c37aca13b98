import Foundation
import Logging
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON
internal import ReclawState

/// Where audit events go besides the log file (the alert notifier).
public protocol AuditSink: Sendable {
    func deliver(_ event: AuditEvent) async
}

/// Turns what reclaw does into audit events: every mutating AWS call (read calls too at debug
/// level), every plan, every action's outcome. Each event is appended and fsync'd before the
/// call or step that produced it returns, and also goes to the log.
public final class Auditor: AWSCallObserver, ExecutionObserver, Sendable {
    public let log: AuditLog?
    public let logger: Logger
    public let includeReads: Bool
    public let sinks: [any AuditSink]
    /// Stamped on every event, when reclaw runs as several replicas.
    public let replica: String?

    public init(log: AuditLog?, logger: Logger, includeReads: Bool? = nil, sinks: [any AuditSink] = [], replica: String? = nil) {
        self.replica = replica
        self.log = log
        self.logger = logger
        self.includeReads = includeReads ?? (logger.logLevel <= .debug)
        self.sinks = sinks
    }

    /// Writes an event durably, logs it, and hands it to the sinks. When the log cannot take it,
    /// the event still goes to the process log (so it is not lost) and the failure is thrown: what
    /// the event would record must then stop.
    public func emit(_ event: AuditEvent) async throws(AuditLogError) {
        var event = event
        if event.replica == nil { event.replica = replica }
        var failure: AuditLogError?
        if let log {
            // Off the threads that run tasks: the fsync holds up only this event's caller.
            let written = event
            do {
                try await BlockingIO.run { () throws(AuditLogError) in try log.append(written) }
            } catch {
                failure = error
            }
        }
        var metadata: Logger.Metadata = ["audit.event": "\(event.eventType.rawValue)", "audit.id": "\(event.eventID)"]
        if let d = event.deployment { metadata["deployment"] = "\(d)" }
        if let p = event.planID { metadata["plan.id"] = "\(p)" }
        if let r = event.requestID { metadata["aws.request_id"] = "\(r)" }
        if let n = event.eventName { metadata["aws.operation"] = "\(n)" }
        if let c = event.errorCode { metadata["aws.error_code"] = "\(c)" }
        if let failure {
            metadata["error"] = "\(failure)"
            metadata["audit.event_json"] = "\(event.jsonLine)"
            logger.error("cannot write the audit log; the event is kept here instead", metadata: metadata)
            throw failure
        }
        // A plan is logged whole where it is made; its PlanComputed line would only repeat the summary.
        let level: Logger.Level = event.eventType == .awsApiCall ? (event.errorCode == nil ? .debug : .info)
            : event.eventType == .planComputed ? .debug
            : [.actionFailed, .reconcileFailed, .sourceFailed, .sourceRejected, .driftDetected].contains(event.eventType) ? .warning : .info
        logger.log(level: level, "\(event.message ?? event.eventType.rawValue)", metadata: metadata)
        for sink in sinks { await sink.deliver(event) }
    }

    /// Throws unless the audit log can take the next events (nothing to check without a log).
    public func ensureWritable() throws(AuditLogError) {
        try log?.ensureWritable()
    }

    // MARK: AWS calls

    public func record(_ call: AWSCallRecord) async {
        guard call.isMutating || includeReads else { return }
        let ms = call.duration.components.seconds * 1000 + call.duration.components.attoseconds / 1_000_000_000_000_000
        var details: [String: JSONValue] = ["attempt": .int(call.attempt), "readOnly": .bool(!call.isMutating), "durationMs": .int(Int(ms))]
        if let component = call.context.component { details["component"] = .string(component) }
        if let k = call.accessKeyId { details["accessKeyId"] = .string(k) }
        if let s = call.httpStatus { details["httpStatus"] = .int(s) }
        // A call that was sent is recorded whatever happens next; a failure to record it was logged
        // by emit, and the next mutating call is refused until the log takes events again.
        try? await emit(AuditEvent(
            type: .awsApiCall, time: call.time, deployment: call.context.deployment, revision: call.context.revision,
            planID: call.context.planID, eventSource: call.service.eventSource, eventName: call.operation, awsRegion: call.region,
            requestID: call.requestID, userAgent: call.userAgent, errorCode: call.errorCode, errorMessage: call.errorMessage,
            resources: ResourceExtractor.resources(call), details: .object(details)))
    }

    /// A mutating call is sent only when the audit log can record it.
    public func admit(_ call: AWSCallIntent) async throws(AWSError) {
        do {
            try ensureWritable()
        } catch {
            throw AWSError(kind: .refused, code: "AuditUnavailable", message: "not sent: the audit log cannot record it (\(error))",
                           service: call.service.rawValue, operation: call.operation, region: call.region)
        }
    }

    // MARK: plans and steps

    public func planComputed(_ plan: Plan) async throws(AuditLogError) {
        try await emit(AuditEvent(
            type: .planComputed, deployment: plan.deployment, revision: plan.revision, planID: plan.id, awsRegion: plan.region,
            message: "\(plan.deployment): \(plan.summary)",
            details: ["add": .int(plan.count(.create)), "change": .int(plan.count(.update)), "replace": .int(plan.count(.replace)),
                      "destroy": .int(plan.count(.delete)), "blocked": .int(plan.blocked.count), "drift": .int(plan.drift.count)]))
    }

    /// A step starts only when the audit log can record what it does.
    public func stepStarted(_ step: Step, context: StepContext) async throws {
        try ensureWritable()
        logger.debug("applying \(step)", metadata: ["deployment": "\(context.deployment)", "plan.id": "\(context.planID)"])
    }

    public func stepFinished(_ outcome: StepOutcome, context: StepContext) async throws {
        let step = outcome.step
        var resources: [AuditEvent.Resource] = []
        if let id = outcome.resourceID { resources.append(.init(type: step.kind.typeName, name: id)) }
        let details: JSONValue = ["component": .string(step.key), "operation": .string(step.operation.rawValue)]
        switch outcome.status {
        case .succeeded:
            try await emit(AuditEvent(type: .actionApplied, deployment: context.deployment, revision: context.revision, planID: context.planID,
                                      awsRegion: context.region, resources: resources, message: "\(context.deployment): \(step) done", details: details))
        case let .failed(message, code, requestID):
            try await emit(AuditEvent(type: .actionFailed, deployment: context.deployment, revision: context.revision, planID: context.planID,
                                      awsRegion: context.region, requestID: requestID, errorCode: code ?? "Error", errorMessage: message,
                                      resources: resources, message: "\(context.deployment): \(step) failed: \(message)", details: details))
        case .skipped(let why), .blocked(let why):
            try await emit(AuditEvent(type: .actionFailed, deployment: context.deployment, revision: context.revision, planID: context.planID,
                                      awsRegion: context.region, errorCode: "NotApplied", errorMessage: why, resources: resources,
                                      message: "\(context.deployment): \(step) not applied: \(why)", details: details))
        case .notStarted:
            break
        }
    }
}
