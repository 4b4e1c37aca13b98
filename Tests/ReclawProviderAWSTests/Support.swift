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

    /// `state` is another harness's state directory to share (its own otherwise).
    /// `accessKey` tells this harness's calls apart at the emulator; `now` is the clock of the slow-read cache.
    /// With `deadlines`, transients are waited out as reclaw does on AWS (the realistic mode's tests).
    init(emulator: Emulator = .shared, maxAttempts: Int = 3, settings: ProviderSettings = ProviderSettings(), accessKey: String = "AKIDTESTRECLAW000001",
         now: @escaping @Sendable () -> Date = { Date() }, deadlines: TransientDeadlines? = nil, logLevel: Logger.Level = .info, state: String? = nil) {
        self.emulator = emulator
        var logger = Logger(label: "test.reconciler")
        logger.logLevel = logLevel
        auditLog = AuditLog(path: dir.file("audit.log"))
        let auditor = Auditor(log: auditLog, logger: logger, includeReads: false)
        client = emulator.client(accessKey: accessKey, maxAttempts: maxAttempts, observer: auditor, logger: logger, deadlines: deadlines)
        let waiter = deadlines.map { Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), deadlines: $0) }
            ?? Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), timeout: .seconds(60))
        reconciler = Reconciler(client: client, state: StateStore(directory: state ?? dir.file("state")), auditor: auditor, logger: logger,
                                waiter: waiter, settings: settings, now: now)
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

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date()

    var now: @Sendable () -> Date { { [self] in lock.withLock { current } } }

    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// Runs a boto3 script as another IAM user (made for the occasion, with its own access key), as a
/// person changing things by hand would. `client(service, region)` is defined for the script; its
/// arguments follow the emulator URL in `sys.argv`.
@discardableResult
func asSomeoneElse(_ emulator: Emulator, _ script: String, _ args: [String]) async throws -> String {
    try await Command.check(["python3", "-c", """
    import boto3, json, sys
    url = sys.argv[1]
    _iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    _user = "intruder-" + sys.argv[-1]
    _iam.create_user(UserName=_user)
    _key = _iam.create_access_key(UserName=_user)["AccessKey"]
    def client(service, region):
        return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=_key["AccessKeyId"], aws_secret_access_key=_key["SecretAccessKey"])
    \(script)
    """, emulator.url] + args + [String(UUID().uuidString.prefix(8))])
}
