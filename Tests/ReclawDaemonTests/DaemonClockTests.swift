import Logging
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawOperations
import ReclawProviderAWS
import ReclawSource
import ReclawState
import ReclawTestSupport
import ReclawTime
import Testing

/// The daemon's loop on a manual clock: the periodic fetch happens when the clock passes the
/// interval (within its ±10% jitter), never before, with no real time waited for it.
@Suite struct DaemonClockTests {
    @Test("the daemon fetches again only when its clock passes the fetch interval")
    func periodicFetchFollowsTheClock() async throws {
        let upstream = try Upstream()
        let first = try upstream.commit(["notes/readme.txt": "first\n"])
        let dir = TemporaryDirectory("reclaw-daemon-clock")
        var logger = Logger(label: "test.daemon-clock")
        logger.logLevel = .warning
        let auditLog = AuditLog(path: dir.file("audit.log"))
        let auditor = Auditor(log: auditLog, logger: logger, includeReads: false)
        let reconciler = Reconciler(client: Emulator.shared.client(logger: logger), state: StateStore(directory: dir.file("state")),
                                    auditor: auditor, logger: logger)
        let source = SpecSource(location: .git(url: upstream.url), cacheDirectory: dir.file("state"))
        let clock = ManualClock()
        let interval = Duration.seconds(60)
        let daemon = ReconcileDaemon(source: source, reconciler: reconciler, auditor: auditor, auditLog: auditLog, notifier: nil,
                                     metrics: Metrics(), options: DaemonOptions(interval: interval, driftInterval: .seconds(3600)),
                                     clock: clock, logger: logger)

        var fetchedAt: Duration?
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await daemon.run() }
            // The first fetch, at start; the clock stands still while it runs, and until the loop
            // has taken in its end (and set the next fetch's due time from the clock).
            try await clock.until(yields: 200_000_000) { daemon.revision == first && clock.sleeping == 2 }
            for _ in 0..<10_000 { await Task.yield() }
            let second = try upstream.commit(["notes/readme.txt": "second\n"])
            // A second at a time, once the loop has had its turn: a fetch under way has its
            // deadline asleep on the clock (three sleepers, not the alarm's and the memory
            // release's two). The clock stops when a fetch begins.
            var started = false
            while !started && clock.now() < interval * 1.1 + .seconds(5) {
                try await clock.untilAsleep(2)
                clock.advance(by: .seconds(1))
                var turns = 0
                while !started && (turns < 1_000 || clock.sleeping < 2) {
                    started = clock.sleeping > 2 || daemon.revision == second
                    turns += 1
                    try #require(turns < 200_000_000, "the loop's alarm never slept again")
                    await Task.yield()
                }
            }
            fetchedAt = clock.now()
            try await clock.until(yields: 200_000_000) { daemon.revision == second }
            group.cancelAll()
        }
        let at = try #require(fetchedAt)
        #expect(at >= interval * 0.9, "fetched again after \(at) on the clock, before the interval allows")
        #expect(at <= interval * 1.1, "fetched again only after \(at) on the clock")
    }
}
