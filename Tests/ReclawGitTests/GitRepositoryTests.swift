import Foundation
import Testing
import ReclawGit
import ReclawTestSupport

@Suite struct GitRepositoryTests {
    @Test func aFetchedBranchResolvesToTheUpstreamCommit() throws {
        let upstream = try Upstream()
        let head = try upstream.commit(["specs/a.yaml": "a: 1\n"])
        let cache = TemporaryDirectory()
        let repo = try GitRepository.openOrCreateBare(at: cache.file("cache.git"))
        try repo.fetch(from: upstream.url)
        #expect(try repo.resolve("main") == head)
    }

    @Test func theURLIsFetchedAsGivenWhateverGitsInsteadOfSettingsSay() throws {
        let upstream = try Upstream()
        let head = try upstream.commit(["specs/a.yaml": "a: 1\n"])
        let cache = TemporaryDirectory()
        let path = cache.file("cache.git")
        _ = try GitRepository.openOrCreateBare(at: path)
        // A rewrite in the cache's own configuration would send the fetch nowhere.
        _ = try Command.check(["git", "--git-dir", path, "config", "url.file:///nonexistent/.insteadOf", upstream.url])
        let repo = try GitRepository.openOrCreateBare(at: path)
        try repo.fetch(from: upstream.url)
        #expect(try repo.resolve("main") == head)
    }

    @Test func treesAndBlobsAreReadFromTheCommitWithoutAWorkingTree() throws {
        let upstream = try Upstream()
        let head = try upstream.commit([
            "specs/a.yaml": "a: 1\n", "specs/team/b.yml": "b: 2\n", "README.md": "hi\n",
        ])
        let cache = TemporaryDirectory()
        let repo = try GitRepository.openOrCreateBare(at: cache.file("cache.git"))
        try repo.fetch(from: upstream.url)
        let specs = try #require(try repo.entry(at: head, path: "specs"))
        #expect(specs.kind == .tree)
        let entries = try repo.entries(ofTree: specs.id, maxObjectBytes: 1 << 20)
        #expect(entries.map(\.name) == ["a.yaml", "team"])
        let b = try #require(try repo.entry(at: head, path: "specs/team/b.yml"))
        #expect(b.kind == .blob)
        #expect(try repo.objectSize(b.id) == 5)
        #expect(String(decoding: try repo.blob(b.id, maxBytes: 100), as: UTF8.self) == "b: 2\n")
        #expect(try repo.entries(ofTree: try #require(try repo.entry(at: head, path: ".")).id, maxObjectBytes: 1 << 20).count == 2)
        #expect(try repo.entry(at: head, path: "missing") == nil)
        #expect(!FileManager.default.fileExists(atPath: cache.file("cache.git/specs")))
    }

    @Test func tagsResolveAndPeelToTheirCommit() throws {
        let upstream = try Upstream()
        let first = try upstream.commit(["a.yaml": "v: 1\n"])
        try upstream.git("tag", "-a", "v1", "-m", "release 1")
        try upstream.git("push", "-q", "origin", "v1")
        try upstream.commit(["a.yaml": "v: 2\n"])
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        try repo.fetch(from: upstream.url)
        #expect(try repo.resolve("v1") == first)
        #expect(try repo.resolve(first) == first)
    }

    @Test func aForcePushIsFollowed() throws {
        let upstream = try Upstream()
        try upstream.commit(["a.yaml": "v: 1\n"])
        let second = try upstream.commit(["a.yaml": "v: 2\n"])
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        try repo.fetch(from: upstream.url)
        #expect(try repo.resolve("main") == second)
        try upstream.git("reset", "-q", "--hard", "HEAD~1")
        let rewritten = try upstream.commit(["b.yaml": "other\n"])
        try repo.fetch(from: upstream.url)
        #expect(try repo.resolve("main") == rewritten)
        #expect(rewritten != second)
    }

    @Test func aDeletedBranchIsPruned() throws {
        let upstream = try Upstream()
        try upstream.commit(["a.yaml": "v: 1\n"])
        try upstream.git("push", "-q", "origin", "HEAD:feature")
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        try repo.fetch(from: upstream.url)
        _ = try repo.resolve("feature")
        try upstream.git("push", "-q", "origin", "--delete", "feature")
        try repo.fetch(from: upstream.url)
        #expect(throws: GitError.self) { try repo.resolve("feature") }
    }

    @Test func aRepositoryIsFetchedOverTheGitProtocol() throws {
        let upstream = try Upstream()
        let head = try upstream.commit(["a.yaml": "v: 1\n"])
        let server = try ServerProcess.gitDaemon(base: upstream.dir.path)
        defer { server.stop() }
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        try repo.fetch(from: server.url + "/upstream.git")
        #expect(try repo.resolve("main") == head)
        let next = try upstream.commit(["a.yaml": "v: 2\n"])
        try repo.fetch(from: server.url + "/upstream.git")
        #expect(try repo.resolve("main") == next)
    }

    @Test func anUnknownRefIsNotFound() throws {
        let upstream = try Upstream()
        try upstream.commit(["a.yaml": "v: 1\n"])
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        try repo.fetch(from: upstream.url)
        #expect { try repo.resolve("nope") } throws: { ($0 as! GitError).isNotFound }
    }

    @Test func anUnreachableRemoteKeepsLibgit2sMessage() throws {
        let repo = try GitRepository.openOrCreateBare(at: TemporaryDirectory().file("c.git"))
        #expect {
            try repo.fetch(from: "file:///nonexistent/reclaw/repo.git")
        } throws: { error in
            let e = error as! GitError
            return e.message.contains("nonexistent") || e.message.lowercased().contains("not found") || e.message.contains("could not find")
        }
        #expect {
            try repo.fetch(from: "git://127.0.0.1:9/repo.git")
        } throws: { ($0 as! GitError).message.lowercased().contains("connect") }
    }

    @Test func theCacheSurvivesReopening() throws {
        let upstream = try Upstream()
        let head = try upstream.commit(["a.yaml": "v: 1\n"])
        let dir = TemporaryDirectory()
        do {
            let repo = try GitRepository.openOrCreateBare(at: dir.file("c.git"))
            try repo.fetch(from: upstream.url)
        }
        let reopened = try GitRepository.openOrCreateBare(at: dir.file("c.git"))
        #expect(try reopened.resolve("main") == head)
    }

    @Test func credentialsInAURLAreRedactedFromMessages() {
        #expect(GitRepository.redacted("https://user:tok3n@example.com/r.git") == "https://***@example.com/r.git")
        #expect(GitRepository.redacted("ssh://git@example.com/r.git") == "ssh://***@example.com/r.git")
        #expect(GitRepository.redacted("file:///tmp/x.git") == "file:///tmp/x.git")
    }
}
