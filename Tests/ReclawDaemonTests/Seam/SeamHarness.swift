import Foundation
import Logging
import ReclawAudit
import ReclawController
@testable import ReclawDaemon
import ReclawOperations
import ReclawSource
import ReclawState
import ReclawTestSupport
import ReclawTime

/// A daemon over a spec directory and the in-memory reconciler, on a manual clock: the daemon's
/// own logic with nothing real under it but local files.
final class SeamHarness: @unchecked Sendable {
    let dir = TemporaryDirectory("reclaw-seam")
    let clock = ManualClock()
    let auditLog: AuditLog
    let reconciler: InMemoryReconciler
    let daemon: ReconcileDaemon

    init(options: DaemonOptions = DaemonOptions(interval: .seconds(3600), driftInterval: .seconds(3600))) {
        var logger = Logger(label: "test.seam")
        logger.logLevel = .critical
        try? FileManager.default.createDirectory(atPath: dir.file("specs"), withIntermediateDirectories: true)
        auditLog = AuditLog(path: dir.file("audit.log"))
        let auditor = Auditor(log: auditLog, logger: logger, includeReads: false)
        reconciler = InMemoryReconciler(state: StateStore(directory: dir.file("state")), auditor: auditor, clock: clock)
        let source = SpecSource(location: .directory(dir.file("specs")), cacheDirectory: dir.file("state"))
        daemon = ReconcileDaemon(source: source, reconciler: reconciler, auditor: auditor, auditLog: auditLog, notifier: nil,
                                 metrics: Metrics(), options: options, clock: clock, logger: logger)
    }

    var cloud: InMemoryCloud { reconciler.cloud }

    /// Writes (or, with nil, removes) spec files.
    func write(_ files: [String: String?]) {
        for (name, text) in files {
            if let text { _ = dir.write("specs/" + name, text) } else { try? FileManager.default.removeItem(atPath: dir.file("specs/" + name)) }
        }
    }

    /// A spec document; `extra` holds lines of `spec:`.
    static func spec(_ name: String, version: String = "2026.2.3", extra: String = "") -> String {
        minimalSpec(name, region: "eu-west-1", version: version, extra: extra)
    }

    func status(_ name: String) -> DeploymentStatus? { try? reconciler.state.load(name) }

    func events(_ type: AuditEvent.EventType) -> [AuditEvent] { auditLog.read().filter { $0.eventType == type } }

    /// Whether the daemon's loop has nothing running.
    var idle: Bool { daemon.core.withLock { !$0.scheduler.isBusy } }

    /// How many failed attempts the scheduler counts for a deployment.
    func failures(_ name: String) -> Int { daemon.core.withLock { $0.scheduler.failures(name) } }

    /// Polls until `condition` holds, sleeping a millisecond of real time between looks (the
    /// daemon's tasks get the threads; spinning on yields can starve them), and throws with what
    /// the loop was doing rather than hang when it never does. Nothing here bounds how long the
    /// daemon takes: only the manual clock's times are checked.
    func until(_ condition: () -> Bool) async throws {
        for _ in 0..<30_000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        if condition() { return }
        throw Stuck(state: daemon.core.withLock { c in
            "at \(clock.now()): busy \(c.scheduler.isBusy), running \(c.scheduler.running), next wake-up \(String(describing: c.scheduler.nextWakeup())), "
                + "\(clock.sleeping) asleep on the clock; calls \(cloud.calls)"
        })
    }

    /// A condition the test waited for never held; what the loop was doing.
    struct Stuck: Error, CustomStringConvertible {
        var state: String
        var description: String { "the daemon never got there: \(state)" }
    }

    /// How many deployments are being worked on.
    var running: Int { daemon.core.withLock { $0.scheduler.running } }

    /// Advances the clock to the scheduler's next timer (a second when it has none due later),
    /// each time once the loop is asleep and `settled` (by default: nothing running), until
    /// `condition` holds or the clock reaches `limit`. After a jump to a timer it waits for the
    /// loop to take that timer's work, so the clock never moves while work is due.
    func advance(until condition: () -> Bool, limit: Duration, settled: (() -> Bool)? = nil) async throws {
        let settled = settled ?? { self.idle }
        while !condition() && clock.now() < limit {
            try await until { condition() || (settled() && clock.sleeping >= 2) }
            if condition() { return }
            let now = clock.now()
            let timer = daemon.core.withLock { $0.scheduler.nextWakeup() }.flatMap { $0 > now ? $0 : nil }
            let to = min(timer ?? now + .seconds(1), limit)
            clock.advance(by: to - now)
            if let timer, timer <= limit {
                try await until { condition() || daemon.core.withLock { $0.scheduler.nextWakeup() } != timer }
            }
        }
    }
}
