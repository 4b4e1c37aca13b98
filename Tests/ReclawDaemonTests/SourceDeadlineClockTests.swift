import ReclawGit
import ReclawSource
import ReclawTestSupport
import ReclawTime
import Testing

/// The fetch deadline on a manual clock: a fetch from a git server that never answers fails
/// `.timedOut` when the clock passes the deadline, not a moment before, and no real seconds are
/// waited for it. The fetch thread's own watchdog keeps the real clock and a far-off timeout.
@Suite struct SourceDeadlineClockTests {
    @Test("a fetch from a silent server times out when the manual clock passes its deadline")
    func silentServerTimesOutOnTheManualClock() async throws {
        let silent = try ServerProcess.stalling(.silent)
        defer { silent.stop() }
        let source = SpecSource(location: .git(url: "git://127.0.0.1:\(silent.port)/upstream.git"),
                                cacheDirectory: TemporaryDirectory("reclaw-cache").path,
                                fetchLimits: GitFetchLimits(connectTimeout: .seconds(600), timeout: .seconds(600)))
        let clock = ManualClock()
        let outcome: SourceError? = try await Clocks.$current.withValue(clock) {
            try await withThrowingTaskGroup(of: SourceError?.self) { group in
                group.addTask {
                    do throws(SourceError) {
                        _ = try await source.snapshot()
                        return nil
                    } catch { return error }
                }
                // The deadline is the fetch timeout and two seconds more, on the daemon's clock.
                try await clock.untilAsleep()
                clock.advance(by: .seconds(601))
                #expect(clock.sleeping == 1, "the deadline passed before its time")
                clock.advance(by: .seconds(1))
                return try await group.next() ?? nil
            }
        }
        let error = try #require(outcome, "a silent server answered the fetch")
        #expect(error.code == .timedOut, "\(error)")
        #expect(error.message.contains("timed out after 600 s"), "\(error.message)")
        #expect(clock.sleeping == 0)
    }
}
