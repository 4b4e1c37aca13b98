import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawEngine
import ReclawProviderAWS
import ReclawSpec
import ReclawState
import ReclawTestSupport

/// A reconciler against the shared emulator with its own state directory and audit log.
struct Harness {
    let emulator: Emulator
    let dir = TemporaryDirectory("reclaw-provider")
    let reconciler: Reconciler
    let auditLog: AuditLog
    let client: AWSClient

    /// With `deadlines`, transients are waited out as reclaw does on AWS (the realistic mode's tests).
    init(emulator: Emulator = .shared, maxAttempts: Int = 3, deadlines: TransientDeadlines? = nil, logLevel: Logger.Level = .info) {
        self.emulator = emulator
        var logger = Logger(label: "test.reconciler")
        logger.logLevel = logLevel
        auditLog = AuditLog(path: dir.file("audit.log"))
        let auditor = Auditor(log: auditLog, logger: logger, includeReads: false)
        client = emulator.client(maxAttempts: maxAttempts, observer: auditor, logger: logger, deadlines: deadlines)
        let waiter = deadlines.map { Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), deadlines: $0) }
            ?? Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), timeout: .seconds(60))
        reconciler = Reconciler(client: client, state: StateStore(directory: dir.file("state")), auditor: auditor, logger: logger, waiter: waiter)
    }

    func plan(_ spec: DeploymentSpec, revision: String = "r1") async throws -> PlannedDeployment {
        try await reconciler.plan([ReconcileTarget(spec: spec, revision: revision)])[0].get()
    }

    @discardableResult
    func apply(_ spec: DeploymentSpec, revision: String = "r1") async throws -> (PlannedDeployment, ApplyResult) {
        let planned = try await plan(spec, revision: revision)
        return (planned, try await reconciler.apply(planned))
    }
}

/// A spec with a unique name in `region`.
func testSpec(_ prefix: String, region: String, _ edit: (inout DeploymentSpec) -> Void = { _ in }) -> DeploymentSpec {
    let name = uniqueName(prefix)
    var s = DeploymentSpec(name: name, region: region, network: .init(region: region), instance: .init(), openclaw: .init(version: "2026.2.3"))
    edit(&s)
    return s
}

extension ApplyResult {
    var report: String { problems.map { "\($0.step): \($0.status)" }.joined(separator: "\n") }
}
