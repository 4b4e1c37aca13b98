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
    let emulator = Emulator.shared
    let dir = TemporaryDirectory("reclaw-provider")
    let reconciler: Reconciler
    let auditLog: AuditLog
    let client: AWSClient

    init(maxAttempts: Int = 3) {
        var logger = Logger(label: "test.reconciler")
        logger.logLevel = .info
        auditLog = AuditLog(path: dir.file("audit.log"))
        let auditor = Auditor(log: auditLog, logger: logger, includeReads: false)
        client = emulator.client(maxAttempts: maxAttempts, observer: auditor, logger: logger)
        reconciler = Reconciler(client: client, state: StateStore(directory: dir.file("state")), auditor: auditor, logger: logger,
                                waiter: Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), timeout: .seconds(60)))
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
