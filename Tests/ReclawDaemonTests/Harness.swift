import Foundation
import Logging
import ReclawAWS
import ReclawAlerts
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawEvents
import ReclawGit
import ReclawHTTP
import ReclawOperations
import ReclawProviderAWS
import ReclawSource
import ReclawSpec
import ReclawState
import ReclawTestSupport
import ServiceLifecycle
import Synchronization

/// A daemon over a real git repository and the emulator, with its own state, audit log and
/// (optionally) a local webhook receiver.
final class DaemonHarness: @unchecked Sendable {
    let emulator: Emulator
    let upstream: Upstream
    let dir: TemporaryDirectory
    let auditLog: AuditLog
    let reconciler: Reconciler
    let daemon: ReconcileDaemon
    let receiver: EchoServer?
    let client: AWSClient
    /// The ids the daemon's own calls made, for an event listener.
    let created = CreatedResources()

    init(emulator: Emulator = .shared, upstream: Upstream? = nil, url: String? = nil, credentials: GitCredentials? = nil,
         options: DaemonOptions = DaemonOptions(interval: .seconds(1), driftInterval: .seconds(3600)),
         webhook: Bool = false, deadlines: TransientDeadlines? = nil, dir: TemporaryDirectory? = nil, logLevel: Logger.Level = .warning) throws {
        self.emulator = emulator
        self.upstream = try upstream ?? Upstream()
        self.dir = dir ?? TemporaryDirectory("reclaw-daemon")
        var logger = Logger(label: "test.daemon")
        logger.logLevel = logLevel
        auditLog = AuditLog(path: self.dir.file("audit.log"))
        let auditor = Auditor(log: auditLog, logger: logger, includeReads: false)
        let metrics = Metrics()
        // With `deadlines`, transients are waited out as reclaw does on AWS (the realistic mode's tests).
        client = emulator.client(observer: FanOutObserver([auditor, metrics, created]), logger: logger, deadlines: deadlines)
        reconciler = Reconciler(client: client, state: StateStore(directory: self.dir.file("state")), auditor: auditor, logger: logger,
                                waiter: deadlines.map { Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), deadlines: $0) }
                                    ?? Waiter(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), timeout: .seconds(60)),
                                interruptedCreateGrace: .seconds(2))
        receiver = webhook ? try EchoServer() : nil
        let notifier = receiver.map { AlertNotifier(urls: [$0.url + "/record"], logger: logger, attempts: 3, firstDelay: .milliseconds(100)) }
        let source = SpecSource(location: .git(url: url ?? self.upstream.url), cacheDirectory: self.dir.file("state"), credentials: credentials)
        daemon = ReconcileDaemon(source: source, reconciler: reconciler, auditor: auditor, auditLog: auditLog, notifier: notifier,
                                 metrics: metrics, options: options, logger: logger)
    }

    var state: StateStore { reconciler.state }

    func status(_ name: String) -> DeploymentStatus? { try? state.load(name) }

    func events(_ type: AuditEvent.EventType) -> [AuditEvent] { auditLog.read().filter { $0.eventType == type } }

    /// Alerts the receiver got, as parsed JSON.
    func alerts() async throws -> [[String: Any]] {
        guard let receiver else { return [] }
        let r = try await HTTPTestClient.get(receiver.url + "/records")
        let records = try JSONSerialization.jsonObject(with: Data(r.utf8)) as? [[String: Any]] ?? []
        return records.compactMap { ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
    }

    /// Runs `body` while the daemon runs as a service (with `extra` services after it), then shuts
    /// it down gracefully.
    func running(with extra: [any Service] = [], _ body: () async throws -> Void) async throws {
        var logger = Logger(label: "test.group")
        logger.logLevel = .warning
        var services: [any Service] = [daemon]
        if let notifier = daemon.notifier { services.append(notifier) }
        services += extra
        let group = ServiceGroup(services: services, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do { try await body() } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// A spec document.
    static func spec(_ name: String, region: String, version: String = "2026.2.3", extra: String = "") -> String {
        minimalSpec(name, region: region, version: version, extra: extra)
    }
}

/// Polls until `condition` holds or `timeout` passes; true when it held. The default is long because
/// a full apply on a loaded emulator (the whole suite at once) can take a minute; it returns at once
/// when the condition holds.
func eventually(_ timeout: Duration = .seconds(120), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// Small HTTP helpers over reclaw's own client.
enum HTTPTestClient {
    static func get(_ url: String) async throws -> String {
        try await ReclawHTTP.HTTPClient.shared.send(.init(url: url)).bodyText
    }
}

/// The lines a logger wrote, each as its message followed by its metadata, for tests that check
/// what reclaw logs (and what it must never log).
final class CapturedLines: Sendable {
    private let value = Mutex<[String]>([])

    var all: [String] { value.withLock { $0 } }

    /// A logger whose every line, at every level, lands here.
    func logger(label: String) -> Logger {
        Logger(label: label) { _ in Handler(lines: self) }
    }

    private struct Handler: LogHandler {
        let lines: CapturedLines
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { metadata[key] } set { metadata[key] = newValue } }
        func log(event: LogEvent) { lines.value.withLock { $0.append("\(event.message) \(event.metadata ?? [:])") } }
    }
}
