import Foundation
import ReclawGit
import ReclawTestSupport
import Testing

/// A remote that never answers, answers too slowly, or never accepts: the fetch ends by its
/// deadline with a clear error, and the same cache fetches from a good remote afterwards.
@Suite struct FetchDeadlineTests {
    /// Fetches and returns the error and how long it took (to tell a deadline from giving up early).
    func failingFetch(_ url: String, _ limits: GitFetchLimits, repo: GitRepository) -> (GitError?, Duration) {
        let started = ContinuousClock.now
        var failure: GitError?
        do { try repo.fetch(from: url, limits: limits) } catch { failure = error as? GitError }
        return (failure, ContinuousClock.now - started)
    }

    @Test(arguments: [("git", ServerProcess.Stall.silent), ("http", .silent), ("ssh", .silent), ("git", .trickle), ("http", .trickle), ("ssh", .trickle)])
    func aRemoteThatNeverFinishesAnsweringIsAbandonedAtTheDeadline(scheme: String, stall: ServerProcess.Stall) throws {
        let server = try ServerProcess.stalling(stall)
        defer { server.stop() }
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        let (error, elapsed) = failingFetch("\(scheme)://\(server.url)/repo.git", GitFetchLimits(connectTimeout: .seconds(5), timeout: .seconds(2)), repo: repo)
        let e = try #require(error, "the fetch from a \(stall) \(scheme) server succeeded")
        #expect(e.timedOut, "\(e)")
        #expect(e.message.contains("timed out after 2 s"), "\(e)")
        // The watchdog ended it (without it libgit2 waits forever): the error names the deadline,
        // and it did not give up before the deadline.
        #expect(elapsed >= .milliseconds(1900), "gave up early, after \(elapsed)")

        // The same cache fetches from a good remote right after.
        let upstream = try Upstream()
        let head = try upstream.commit(["a.yaml": "v: 1\n"])
        try repo.fetch(from: upstream.url, limits: GitFetchLimits(connectTimeout: .seconds(5), timeout: .seconds(30)))
        #expect(try repo.resolve("main") == head)
    }

    @Test func aConnectionThatIsNeverAcceptedStopsAtTheConnectTimeout() throws {
        let server = try ServerProcess.stalling(.backlog)
        defer { server.stop() }
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        let (error, elapsed) = failingFetch("git://\(server.url)/repo.git", GitFetchLimits(connectTimeout: .seconds(1), timeout: .seconds(30)), repo: repo)
        let e = try #require(error)
        #expect(e.timedOut && e.message.contains("connecting timed out after 1 s"), "\(e)")
        #expect(elapsed >= .milliseconds(900), "gave up early, after \(elapsed)")
    }

    @Test func aFetchThatMakesProgressStillStopsAtItsDeadline() throws {
        // A local remote calls back with progress: the callbacks stop it at the deadline.
        let upstream = try Upstream()
        var files: [String: String?] = [:]
        for i in 0..<300 { files["f\(i).txt"] = String(repeating: "\(i) ", count: 2000) }
        try upstream.commit(files)
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        #expect {
            try repo.fetch(from: upstream.url, limits: GitFetchLimits(connectTimeout: .seconds(1), timeout: .zero))
        } throws: { ($0 as? GitError)?.timedOut == true }
        try repo.fetch(from: upstream.url)
        #expect(try repo.resolve("main") == upstream.git("rev-parse", "HEAD"))
    }

    @Test func aRemoteThatSendsTooMuchIsRefused() throws {
        let upstream = try Upstream()
        let noise = (0..<(256 << 10)).map { _ in UInt8.random(in: 0...255) }
        try upstream.commit(["noise.txt": Data(noise).base64EncodedString()])  // about 340 KiB that does not compress away
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        #expect {
            try repo.fetch(from: upstream.url, limits: GitFetchLimits(maxReceivedBytes: 1024))
        } throws: { ($0 as? GitError)?.message.contains("the remote sent more than") == true }
    }
}
