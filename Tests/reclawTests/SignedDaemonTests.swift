import Foundation
import ReclawHTTP
import ReclawTestSupport
import Testing

/// One long-running `reclaw run --allowed-signers` through a signed commit, an unsigned one on top
/// (refused, and said so everywhere while drift is still corrected), the next signed one, and a
/// restart onto an unsigned tip that keeps the recorded verified revision in force.
@Suite(.serialized) struct SignedDaemonTests {
    let keys = SigningKeys()

    /// A daemon writing its log to a file, stopped with SIGTERM (or killed when a test fails).
    final class Daemon: @unchecked Sendable {
        let process = Process()
        let log: String

        init(_ arguments: [String], env: [String: String], log: String) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.executableURL = URL(fileURLWithPath: RepoPaths.reclawBinary)
            process.arguments = arguments
            process.environment = env
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
        }

        var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        func stop(_ signal: Int32 = SIGTERM) {
            guard process.isRunning else { return }
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    func events(_ log: String, _ type: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["eventType"] as? String == type }
    }

    func get(_ url: String) async -> (status: Int, body: String)? {
        guard let r = try? await HTTPClient().send(HTTPRequest(url: url, connectTimeout: .seconds(2), timeout: .seconds(5))) else { return nil }
        return (r.status, r.bodyText)
    }

    func row(_ name: String, _ env: [String: String]) async -> [String: Any]? {
        guard let out = try? await Command.check([RepoPaths.reclawBinary, "status", "--json"], environment: env),
              let rows = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else { return nil }
        return rows.first { $0["deployment"] as? String == name }
    }

    @Test func oneDaemonRefusesAnUnsignedCommitAndARestartKeepsTheVerifiedRevision() async throws {
        let emulator = Emulator.shared
        try keys.ssh("alice")
        let allowed = keys.allowedSigners(["alice@example.com namespaces=\"git\" \(try keys.publicKey("alice"))"])
        let upstream = try Upstream()
        let dir = TemporaryDirectory("reclaw-signed-daemon")
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        let audit = dir.file("state/audit.log")
        let receiver = try EchoServer()
        let port = try MetricsAddressTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let region = "eu-west-3"
        let first = uniqueName("signed"), second = uniqueName("sneaked")
        let arguments = ["run", "--source", upstream.url, "--allowed-signers", allowed, "--interval", "1s", "--drift-interval", "5s",
                         "--metrics-address", "127.0.0.1:\(port)", "--alert-webhook", receiver.url + "/record"]

        try upstream.signWithSSH(try keys.ssh("alice"))
        let good = try upstream.commit(["a.yaml": minimalSpec(first, region: region)])
        let daemon = try Daemon(arguments, env: env, log: dir.file("first.log"))
        defer { daemon.stop(SIGKILL) }
        #expect(await waitUntil(300) { await row(first, env)?["lastAppliedRevision"] as? String == good }, "\(daemon.text.suffix(3000))")
        let record = try String(contentsOfFile: dir.file("state/source/verified-revision.json"), encoding: .utf8)
        #expect(record.contains(good) && record.contains("alice@example.com"), "\(record)")
        var info = stat()
        #expect(stat(dir.file("state/source/verified-revision.json"), &info) == 0 && info.st_mode & 0o777 == 0o600)

        // An unsigned commit on top: refused, nothing of it reaches AWS, and everything says why.
        try upstream.stopSigning()
        let unsigned = try upstream.commit(["b.yaml": minimalSpec(second, region: region)])
        let calls = events(audit, "AwsApiCall").count
        #expect(await waitUntil(120) { !events(audit, "SourceRejected").isEmpty }, "\(daemon.text.suffix(3000))")
        let rejected = events(audit, "SourceRejected")
        #expect(rejected.first?["revision"] as? String == unsigned && rejected.first?["errorCode"] as? String == "unsigned")
        let counted = await waitUntil(60) {
            await get(base + "/metrics")?.body.contains("reclaw_source_rejections_total{reason=\"unsigned\"} 1") == true
        }
        let metrics = await get(base + "/metrics")?.body ?? "no /metrics"
        #expect(counted, "\(metrics.split(separator: "\n").filter { $0.contains("rejection") })")
        // Named, and not a liveness failure (a 503 here would only come from a slow loop on a busy machine).
        let named = await waitUntil(60) {
            let health = await get(base + "/healthz")
            return health?.status == 200 && health?.body.contains("source rejected: commit \(unsigned) refused: unsigned") == true
        }
        let health = await get(base + "/healthz")
        #expect(named, "\(health?.status ?? 0) \(health?.body ?? "no /healthz")")
        let status = try await Command.check([RepoPaths.reclawBinary, "status"], environment: env)
        #expect(status.contains("SourceVerified: False (SignatureRefused)") && status.contains("unsigned"), "\(status)")
        #expect(await waitUntil(30) { (try? await receiver.records())?.contains("SourceRejected") == true }, "no alert")

        // Drift is still corrected, against the verified revision.
        let corrected = events(audit, "DriftCorrected").count
        _ = try await emulator.openPort(8080, deployment: first, region: region)
        #expect(await waitUntil(120) {
            events(audit, "DriftCorrected").dropFirst(corrected).contains { $0["deployment"] as? String == first && $0["revision"] as? String == good }
        }, "\(daemon.text.suffix(3000))")
        #expect(try await emulator.openPorts(deployment: first, region: region).contains(8080) == false)
        #expect(events(audit, "SourceRejected").count == 1, "the same refused commit was reported again")
        #expect(!events(audit, "PlanComputed").contains { $0["deployment"] as? String == second }, "the refused revision was planned")
        #expect(!events(audit, "AwsApiCall").dropFirst(calls).contains { e in
            (e["deployment"] as? String == second) || ((e["eventName"] as? String)?.hasPrefix("Create") == true)
        }, "AWS was changed for the refused revision")

        // The next signed commit is applied, with the one refused before it.
        try upstream.signWithSSH(try keys.ssh("alice"))
        let next = try upstream.commit(["c.txt": "signed again"])
        #expect(await waitUntil(300) { await row(second, env)?["lastAppliedRevision"] as? String == next }, "\(daemon.text.suffix(3000))")
        #expect(await waitUntil(30) { await get(base + "/healthz")?.body.contains("source rejected") == false })
        #expect(try String(contentsOfFile: dir.file("state/source/verified-revision.json"), encoding: .utf8).contains(next))
        daemon.stop()
        #expect(daemon.process.terminationStatus == 0, "\(daemon.text.suffix(2000))")

        // A restart onto an unsigned tip: the recorded verified revision stays in force.
        try upstream.stopSigning()
        let later = try upstream.commit(["d.yaml": minimalSpec(uniqueName("later"), region: region)])
        let restarted = try Daemon(arguments, env: env, log: dir.file("second.log"))
        defer { restarted.stop(SIGKILL) }
        #expect(await waitUntil(120) { events(audit, "SourceRejected").contains { $0["revision"] as? String == later } }, "\(restarted.text.suffix(3000))")
        #expect(restarted.text.contains("the last verified revision is in force"), "\(restarted.text.suffix(3000))")
        let inForce = events(audit, "SourceRejected").last { $0["revision"] as? String == later }
        #expect((inForce?["message"] as? String)?.contains("revision \(next) stays in force") == true, "\(inForce ?? [:])")
        #expect(await waitUntil(30) { await get(base + "/healthz")?.body.contains("source rejected: commit \(later)") == true })
        #expect(try await row(first, env)?["lastAppliedRevision"] as? String == next)
        restarted.stop()
        #expect(restarted.process.terminationStatus == 0, "\(restarted.text.suffix(2000))")
    }

    @Test func afterARestartVerifyHistoryChecksEveryCommitSinceTheRecordedRevision() async throws {
        try keys.ssh("alice")
        let allowed = keys.allowedSigners(["alice@example.com namespaces=\"git\" \(try keys.publicKey("alice"))"])
        let upstream = try Upstream()
        let dir = TemporaryDirectory("reclaw-signed-history")
        let env = ["RECLAW_STATE_DIR": dir.file("state"), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"]
        let run = [RepoPaths.reclawBinary, "run", "--source", upstream.url, "--allowed-signers", allowed, "--verify-history", "--once"]
        try upstream.signWithSSH(try keys.ssh("alice"))
        let signed = try upstream.commit(["README": "signed"])
        let first = try await Command.run(run, environment: env)
        #expect(first.stderr.contains("only the tip \(signed) was verified"), "\(first.stderr.suffix(2000))")
        #expect(try String(contentsOfFile: dir.file("state/source/verified-revision.json"), encoding: .utf8).contains(signed))

        try upstream.stopSigning()
        let sneaked = try upstream.commit(["README": "unsigned"])
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.commit(["README": "signed on top"])
        let second = try await Command.run(run, environment: env)
        #expect(second.status == 1, "\(second.stderr.suffix(2000))")
        let rejected = events(dir.file("state/audit.log"), "SourceRejected")
        #expect(rejected.count == 1 && rejected.first?["revision"] as? String == sneaked, "\(rejected)")
        #expect((rejected.first?["message"] as? String)?.contains("revision \(signed) stays in force") == true, "\(rejected)")
        #expect(!second.stderr.contains("only the tip"), "\(second.stderr.suffix(2000))")
    }

    @Test func aRecordedRevisionWhoseKeyWasRemovedIsNotPutBackInForce() async throws {
        try keys.ssh("alice")
        try keys.ssh("bob")
        let alice = keys.allowedSigners(["alice@example.com namespaces=\"git\" \(try keys.publicKey("alice"))"])
        let bob = keys.allowedSigners(["bob@example.com namespaces=\"git\" \(try keys.publicKey("bob"))"], file: "bob")
        let upstream = try Upstream()
        let dir = TemporaryDirectory("reclaw-signed-revoked")
        let env = ["RECLAW_STATE_DIR": dir.file("state"), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"]
        func run(_ allowed: String) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary, "run", "--source", upstream.url, "--allowed-signers", allowed, "--once"], environment: env)
        }
        try upstream.signWithSSH(try keys.ssh("alice"))
        let signed = try upstream.commit(["README": "signed by alice"])
        _ = try await run(alice)
        #expect(try String(contentsOfFile: dir.file("state/source/verified-revision.json"), encoding: .utf8).contains(signed))
        try upstream.stopSigning()
        try upstream.commit(["README": "unsigned"])
        let refused = try await run(bob)
        #expect(refused.status == 1, "\(refused.stderr.suffix(2000))")
        #expect(refused.stderr.contains("no longer verifies") && !refused.stderr.contains("is in force, as recorded"), "\(refused.stderr.suffix(2000))")
        let rejected = events(dir.file("state/audit.log"), "SourceRejected")
        #expect((rejected.last?["message"] as? String)?.contains("revision none stays in force") == true, "\(rejected)")
    }

    @Test func anUnreadableVerifiedRevisionStopsTheDaemonFromApplying() async throws {
        try keys.ssh("alice")
        let allowed = keys.allowedSigners(["alice@example.com namespaces=\"git\" \(try keys.publicKey("alice"))"])
        let upstream = try Upstream()
        let dir = TemporaryDirectory("reclaw-signed-corrupt")
        let env = ["RECLAW_STATE_DIR": dir.file("state"), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"]
        let file = dir.write("state/source/verified-revision.json", "{not json")
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.commit(["README": "signed"])
        let port = try MetricsAddressTests.freePort()
        let daemon = try Daemon(["run", "--source", upstream.url, "--allowed-signers", allowed, "--interval", "1s",
                                 "--metrics-address", "127.0.0.1:\(port)"], env: env, log: dir.file("run.log"))
        defer { daemon.stop(SIGKILL) }
        #expect(await waitUntil(60) {
            let health = await get("http://127.0.0.1:\(port)/healthz")
            return health?.status == 200 && health?.body.contains("source held: \(file)") == true
        }, "\(daemon.text.suffix(3000))")
        let failed = events(dir.file("state/audit.log"), "SourceFailed")
        #expect(failed.count == 1 && failed.first?["errorCode"] as? String == "StateCorrupt", "\(failed)")
        #expect(!daemon.text.contains("new revision"), "a revision was put in force: \(daemon.text.suffix(3000))")
        daemon.stop()
    }
}
