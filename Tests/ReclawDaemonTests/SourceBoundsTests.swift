import Foundation
import ReclawDaemon
import ReclawGit
import ReclawSource
import ReclawSpec
import ReclawTestSupport
import Testing

/// Reading the repository fails closed and stays bounded: a remote that never answers, links,
/// files and trees too large or too deep. No emulator needed.
@Suite struct SourceBoundsTests {
    func source(_ url: String, timeout: Duration = .seconds(2), limits: SpecTreeLimits = SpecTreeLimits(), path: String = ".") -> SpecSource {
        SpecSource(location: .git(url: url), path: path, cacheDirectory: TemporaryDirectory("reclaw-cache").path, limits: limits,
                   fetchLimits: GitFetchLimits(connectTimeout: .seconds(1), timeout: timeout))
    }

    func snapshotError(_ source: SpecSource) async -> (SourceError?, Duration) {
        let started = ContinuousClock.now
        do {
            _ = try await source.snapshot()
            return (nil, ContinuousClock.now - started)
        } catch {
            return (error, ContinuousClock.now - started)
        }
    }

    @Test func aSilentRemoteFailsTheSnapshotByItsDeadlineAndTheSameSourceRecoversWhenTheRemoteAnswers() async throws {
        let upstream = try Upstream()
        let revision = try upstream.commit(["app.yaml": "apiVersion: v1\nkind: ConfigMap\n"])
        let silent = try ServerProcess.stalling(.silent)
        let port = silent.port
        let source = source("git://127.0.0.1:\(port)/upstream.git")
        let (error, elapsed) = await snapshotError(source)
        #expect(error?.code == .timedOut, "\(String(describing: error))")
        #expect(error?.message.contains("timed out after 2 s") == true, "\(String(describing: error))")
        // Without a deadline the snapshot never returns; the bound only leaves room for a loaded
        // machine (awaiting includes waiting for a free thread of the shared pool).
        #expect(elapsed < .seconds(180), "the snapshot took \(elapsed)")
        silent.stop()
        usleep(200_000)
        let daemon = try ServerProcess.gitDaemon(base: upstream.dir.path, port: port)
        defer { daemon.stop() }
        #expect(try await source.snapshot().revision == revision)
    }

    @Test func aSecondSnapshotWhileAFetchIsStillRunningFailsAtOnceAndTheThreadEnds() async throws {
        let silent = try ServerProcess.stalling(.silent)
        defer { silent.stop() }
        let source = source("git://\(silent.url)/repo.git", timeout: .seconds(3))
        async let first = snapshotError(source)
        try await Task.sleep(for: .milliseconds(500))
        // Refused at once: waiting for the first fetch would end in its timeout instead.
        let (busy, _) = await snapshotError(source)
        #expect(busy?.code == .busy, "\(String(describing: busy))")
        let (timedOut, _) = await first
        #expect(timedOut?.code == .timedOut)
        // The stuck thread was unblocked, not abandoned: the next fetch is not refused as busy.
        let (again, _) = await snapshotError(source)
        #expect(again?.code == .timedOut, "\(String(describing: again))")
    }

    @Test func linksInTheRepositoryAreNeverFollowedAndValidateSeesTheSameFilesAsTheDaemon() async throws {
        let upstream = try Upstream()
        let outside = TemporaryDirectory("reclaw-outside")
        outside.write("elsewhere.yaml", minimalSpec("elsewhere", region: "eu-west-1"))
        outside.write("dir/inner.yaml", minimalSpec("inner", region: "eu-west-1"))
        try upstream.commit(["specs/app.yaml": minimalSpec("app", region: "eu-west-1"), "specs/.hidden/skip.yaml": "not: [valid",
                             "specs/notes.txt": "hello"], push: false)
        try FileManager.default.createSymbolicLink(atPath: upstream.work + "/specs/linked.yaml", withDestinationPath: outside.file("elsewhere.yaml"))
        try FileManager.default.createSymbolicLink(atPath: upstream.work + "/specs/team", withDestinationPath: outside.file("dir"))
        let revision = try upstream.commit([:])

        let snapshot = try await source(upstream.url, timeout: .seconds(30), path: "specs").snapshot()
        #expect(snapshot.revision == revision)
        #expect(snapshot.files.map(\.path) == ["specs/app.yaml"])
        #expect(snapshot.unreadable == ["specs/linked.yaml": "is a symbolic link; reclaw reads regular files only"])
        #expect(snapshot.paths == ["specs/app.yaml", "specs/linked.yaml"])
        let load = source(upstream.url).load(snapshot)
        #expect(load.deployments.map(\.spec.name) == ["app"])
        #expect(load.unreadableFiles.keys.sorted() == ["specs/linked.yaml"])
        #expect(load.errors.map(\.description) == ["specs/linked.yaml: error: is a symbolic link; reclaw reads regular files only"])

        // `reclaw validate` on the checkout reads exactly the same files, with the same verdicts.
        let r = try await Command.run([RepoPaths.reclawBinary, "validate", "--json", "specs"], directory: upstream.work)
        #expect(r.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["deployments"] as? [String] == ["app"])
        #expect((json["unreadableFiles"] as? [String: String]) == snapshot.unreadable)
        #expect(json["files"] as? Int == 2)
    }

    @Test func theSpecPathMustBeADirectoryOfTheCommit() async throws {
        let upstream = try Upstream()
        try upstream.commit(["specs/app.yaml": minimalSpec("app", region: "eu-west-1")], push: false)
        try FileManager.default.createSymbolicLink(atPath: upstream.work + "/linked", withDestinationPath: "specs")
        try upstream.commit([:])
        for (path, code, text) in [("missing", SourceError.Code.invalidTree, "no such directory"),
                                   ("linked", .invalidTree, "is a symbolic link in the repository"),
                                   ("specs/app.yaml", .invalidTree, "is not a directory")] {
            let (error, _) = await snapshotError(source(upstream.url, timeout: .seconds(30), path: path))
            #expect(error?.code == code && error?.message.contains(text) == true, "\(path): \(String(describing: error))")
        }
    }

    @Test func aSpecFileOverTheSizeLimitIsUnreadableWithoutBeingRead() async throws {
        let upstream = try Upstream()
        let big = "a: \"" + String(repeating: "x", count: (1 << 20) + 10) + "\"\n"
        try upstream.commit(["big.yaml": big, "app.yaml": minimalSpec("app", region: "eu-west-1"), "data.bin": big])
        let snapshot = try await source(upstream.url, timeout: .seconds(30)).snapshot()
        #expect(snapshot.files.map(\.path) == ["app.yaml"])
        #expect(snapshot.unreadable["big.yaml"] == "is 1.0 MiB (1048592 bytes); reclaw reads spec files up to 1 MiB")
    }

    @Test func aTreeThousandsOfLevelsDeepIsAClearErrorNotACrash() async throws {
        let upstream = try Upstream()
        try upstream.commit(["top.yaml": "apiVersion: v1\nkind: ConfigMap\n"])
        let head = try DeepTree.write(bare: upstream.bare, levels: 6000)
        let (error, _) = await snapshotError(source(upstream.url, timeout: .seconds(60)))
        #expect(error?.code == .invalidTree, "\(String(describing: error))")
        #expect(error?.message.contains("more than 32 directories deep") == true, "\(String(describing: error))")
        #expect(!head.isEmpty)
    }

    @Test func aSourceOverItsEntryOrFileCountIsNotReadAtAll() async throws {
        let upstream = try Upstream()
        var files: [String: String?] = [:]
        for i in 0..<30 { files["f\(i).yaml"] = "apiVersion: v1\nkind: ConfigMap\n" }
        for i in 0..<30 { files["n\(i).txt"] = "x" }
        try upstream.commit(files)
        let (entries, _) = await snapshotError(source(upstream.url, timeout: .seconds(30), limits: SpecTreeLimits(maxEntries: 50)))
        #expect(entries?.code == .invalidTree && entries?.message.contains("more than 50 files and directories") == true, "\(String(describing: entries))")
        let (specs, _) = await snapshotError(source(upstream.url, timeout: .seconds(30), limits: SpecTreeLimits(maxSpecFiles: 20)))
        #expect(specs?.message.contains("more than 20 *.yaml/*.yml files") == true, "\(String(describing: specs))")
        let (bytes, _) = await snapshotError(source(upstream.url, timeout: .seconds(30), limits: SpecTreeLimits(maxTotalBytes: 500)))
        #expect(bytes?.message.contains("spec files hold more than 500 bytes") == true, "\(String(describing: bytes))")
    }
}

/// Writes a commit whose tree nests `levels` directories (d/d/d/…/a.yaml) straight into a bare
/// repository's object store, and points main at it: git's own tools are too slow for this.
enum DeepTree {
    @discardableResult
    static func write(bare: String, levels: Int) throws -> String {
        let script = """
        import hashlib, os, sys, zlib
        repo, depth = sys.argv[1], int(sys.argv[2])
        def write(kind, body):
            data = f"{kind} {len(body)}\\0".encode() + body
            sha = hashlib.sha1(data).hexdigest()
            d = os.path.join(repo, "objects", sha[:2]); os.makedirs(d, exist_ok=True)
            p = os.path.join(d, sha[2:])
            if not os.path.exists(p):
                with open(p, "wb") as f: f.write(zlib.compress(data))
            return sha
        blob = write("blob", b"apiVersion: v1\\nkind: ConfigMap\\n")
        tree = write("tree", b"100644 a.yaml\\0" + bytes.fromhex(blob))
        for _ in range(depth):
            tree = write("tree", b"40000 d\\0" + bytes.fromhex(tree))
        top = write("tree", b"40000 deep\\0" + bytes.fromhex(tree) + b"100644 top.yaml\\0" + bytes.fromhex(blob))
        commit = write("commit", f"tree {top}\\nauthor A <a@example.com> 0 +0000\\ncommitter A <a@example.com> 0 +0000\\n\\ndeep\\n".encode())
        open(os.path.join(repo, "refs/heads/main"), "w").write(commit + "\\n")
        print(commit)
        """
        return try Command.check(["python3", "-c", script, bare, "\(levels)"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
