import Foundation
import ReclawTestSupport
import Testing

/// `reclaw run` and `reclaw status` as an operator runs them: against a real git repository and the
/// emulator, with a real SIGTERM.
@Suite struct RunCommandTests {
    let emulator = Emulator.shared

    struct Workspace {
        let upstream: Upstream
        let dir = TemporaryDirectory("reclaw-run")
        let name = uniqueName("run")
        let region: String
        var env: [String: String]

        init(emulator: Emulator, region: String) throws {
            upstream = try Upstream()
            self.region = region
            env = emulator.environment
            env["RECLAW_STATE_DIR"] = dir.file("state")
        }

        var auditLog: String { dir.file("state/audit.log") }

        func run(_ extra: String...) -> [String] {
            [RepoPaths.reclawBinary, "run", "--source", upstream.url, "--path", "deployments"] + extra
        }

        /// `reclaw status --json`, the row of this deployment.
        func status() async throws -> [String: Any] {
            let out = try await Command.check([RepoPaths.reclawBinary, "status", "--json"], environment: env)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
            return try #require(rows.first { $0["deployment"] as? String == name })
        }

        /// A condition of `status --json`, whose status is "True", "False" or "Unknown".
        func condition(_ row: [String: Any], _ type: String) -> (status: Bool, reason: String)? {
            guard let c = (row["conditions"] as? [[String: Any]])?.first(where: { $0["type"] as? String == type }) else { return nil }
            return (c["status"] as? String == "True", c["reason"] as? String ?? "")
        }
    }

    @Test func runOnceExitsTwoWhenItAppliedAndZeroWhenNothingChangedAndStatusShowsIt() async throws {
        let w = try Workspace(emulator: emulator, region: "ca-central-1")
        let revision = try w.upstream.commit(["deployments/app.yaml": minimalSpec(w.name, region: w.region), "README.md": "not a spec"])

        let first = try await Command.run(w.run("--once"), environment: w.env)
        #expect(first.status == 2, "\(first.stderr.suffix(3000))")
        #expect(first.stderr.contains("Plan for deployment \(w.name) in \(w.region) (revision \(revision.prefix(12))"))
        #expect(first.stderr.contains("Plan: 19 to add, 0 to change, 0 to replace, 0 to destroy."))

        let second = try await Command.run(w.run("--once"), environment: w.env)
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")

        let row = try await w.status()
        #expect(row["lastAppliedRevision"] as? String == revision)
        #expect(row["region"] as? String == w.region)
        #expect(w.condition(row, "Ready")?.status == true)
        #expect(w.condition(row, "Stalled")?.status == false)
        let text = try await Command.check([RepoPaths.reclawBinary, "status"], environment: w.env)
        #expect(text.contains("\(w.name) (\(w.region))\n  Ready: True (ReconciliationSucceeded)"))
    }

    @Test func aPlanIsOneLogRecordATextBlockWithItsMetadataFirstOrAStructuredFieldInJSON() async throws {
        let w = try Workspace(emulator: emulator, region: "ca-central-1")
        try w.upstream.commit(["deployments/app.yaml": minimalSpec(w.name, region: w.region)])
        // Text: the header line carries the metadata; the block ends with the summary alone, once.
        let text = try await Command.run(w.run("--once"), environment: w.env)
        #expect(text.status == 2, "\(text.stderr.suffix(2000))")
        let lines = text.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(lines.firstIndex { $0.contains(" info reclaw: Plan for deployment \(w.name) in \(w.region)") })
        #expect(lines[header].contains("deployment=\(w.name)") && lines[header].contains("plan.id="))
        let summary = try #require(lines.firstIndex { $0.contains("Plan: 19 to add, 0 to change, 0 to replace, 0 to destroy.") })
        #expect(lines[summary] == "  Plan: 19 to add, 0 to change, 0 to replace, 0 to destroy.")
        #expect(lines[header + 1..<summary].allSatisfy { $0.hasPrefix("  ") })
        #expect(lines.filter { $0.contains("to add, 0 to change") }.count == 1, "the summary is printed more than once")
        // JSON: one record, the plan a structured field in the layout of plan --json.
        let edited = minimalSpec(w.name, region: w.region).replacingOccurrences(of: "openclaw: {version: \"2026.2.3\"}",
                                                                                with: "openclaw: {version: \"2026.2.3\", model: us.amazon.nova-pro-v1:0}")
        try w.upstream.commit(["deployments/app.yaml": edited])
        let structured = try await Command.run(w.run("--once", "--log-format", "json"), environment: w.env)
        #expect(structured.status == 2, "\(structured.stderr.suffix(2000))")
        let records = structured.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.count == structured.stderr.split(separator: "\n").count, "a line is not one JSON record")
        let plans = records.filter { $0["plan"] != nil }
        #expect(plans.count == 1)
        let plan = try #require(plans.first?["plan"] as? [String: Any])
        #expect(plan["format_version"] as? String == "2.0")
        let changes = (plan["resource_changes"] as? [[String: Any]]) ?? []
        #expect(changes.count == 19)
        let updated = changes.filter { ($0["change"] as? [String: Any])?["actions"] as? [String] == ["update"] }.compactMap { $0["name"] as? String }
        #expect(Set(updated) == ["param-model", "instance"])
        #expect(plans.first?["deployment"] as? String == w.name && plans.first?["log.block"] == nil)
    }

    @Test func anInvalidSpecIsLoggedOneDiagnosticPerLine() async throws {
        let w = try Workspace(emulator: emulator, region: "ca-central-1")
        let unknown = (1...40).map { "  unknownField\($0): \(String(repeating: "v", count: 100))" }.joined(separator: "\n")
        try w.upstream.commit(["deployments/bad.yaml": minimalSpec(w.name, region: w.region, extra: unknown)])
        let r = try await Command.run(w.run("--once"), environment: w.env)
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n")
        for i in 1...40 { #expect(lines.filter { $0.contains("bad.yaml:\(6 + i)") && $0.contains("unknownField\(i)") }.count == 1, "field \(i)") }
        #expect(lines.allSatisfy { $0.utf8.count < 1500 }, "a line of \(lines.map(\.utf8.count).max() ?? 0) bytes")
        #expect(r.stderr.contains("invalid spec: the deployment is left exactly as it was deployment=\(w.name) errors=40"))
    }

    @Test func runOnceExitsOneWhenASpecIsInvalidAndNamesWhere() async throws {
        let w = try Workspace(emulator: emulator, region: "ca-central-1")
        try w.upstream.commit(["deployments/bad.yaml": minimalSpec(w.name, region: "mars-north-1")])
        let r = try await Command.run(w.run("--once"), environment: w.env)
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad.yaml:5:11"), "\(r.stderr.suffix(2000))")
    }

    @Test func aDeploymentThatCannotBeObservedExitsOneAndShowsInStatus() async throws {
        let w = try Workspace(emulator: emulator, region: "ca-central-1")
        let revision = try w.upstream.commit(["deployments/app.yaml": minimalSpec(w.name, region: w.region)])
        let fault = try await emulator.injectError(service: "ec2", userAgent: "deployment/\(w.name)", operation: "DescribeVpcs",
                                                   code: "UnauthorizedOperation", status: 403, count: nil)
        let r = try await Command.run(w.run("--once"), environment: w.env)
        try await emulator.removeFault(fault)
        #expect(r.status == 1)
        #expect(r.stderr.contains("UnauthorizedOperation"), "\(r.stderr.suffix(2000))")
        let row = try await w.status()
        #expect(w.condition(row, "Ready")?.status == false)
        #expect(w.condition(row, "Ready")?.reason == "PlanFailed")
        #expect(row["lastAttemptedRevision"] as? String == revision)
    }

    @Test func alertWebhooksReadFromAFileReceiveTheAlerts() async throws {
        let w = try Workspace(emulator: emulator, region: "ca-central-1")
        let receiver = try EchoServer()
        try w.upstream.commit(["deployments/bad.yaml": minimalSpec(w.name, region: "mars-north-1")])
        let urls = w.dir.write("webhooks", "# the team's receiver\n\n  \(receiver.url)/record  \n")
        let secret = w.dir.write("alert-secret", "s3cret-for-alerts\n")
        let r = try await Command.run(w.run("--once", "--alert-webhook-file", urls, "--alert-webhook-secret-file", secret), environment: w.env)
        #expect(r.status == 1, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("alert-webhooks=1"))
        #expect(!r.stderr.contains(receiver.url) && !r.stderr.contains("s3cret-for-alerts"))
        let records = try await receiver.records()
        #expect(records.contains("ReconcileFailed") && records.contains("InvalidSpec") && records.contains(w.name), "\(records)")
        // Signed as the receiver of X-Hub-Signature-256 expects: HMAC-SHA256 of the body, in hex.
        let record = try #require((try JSONSerialization.jsonObject(with: Data(records.utf8)) as? [[String: Any]])?.first)
        let headers = Dictionary(((record["headers"] as? [String: String]) ?? [:]).map { ($0.key.lowercased(), $0.value) }) { a, _ in a }
        let body = w.dir.write("body", record["body"] as? String ?? "")
        let expected = try await Command.check(["openssl", "dgst", "-sha256", "-hmac", "s3cret-for-alerts", "-r", body])
        #expect(headers["x-reclaw-signature-256"] == "sha256=" + (expected.split(separator: " ").first.map(String.init) ?? "?"))
        #expect(headers["webhook-signature"]?.hasPrefix("v1,") == true && headers["webhook-id"] != nil && headers["webhook-timestamp"] != nil)

        let bad = w.dir.write("bad-secret", "whsec_not base64!")
        let refused = try await Command.run(w.run("--once", "--alert-webhook-file", urls, "--alert-webhook-secret-file", bad), environment: w.env)
        #expect(refused.status == 1 && refused.stderr.contains("starts with whsec_ but the rest is not base64"), "\(refused.stderr.suffix(1000))")
    }

    @Test func aWebhookFileWithABadLineIsRefusedNamingTheLineNotTheURL() async throws {
        let dir = TemporaryDirectory("reclaw-run")
        let urls = dir.write("webhooks", "https://hooks.example.com/T000/SECRET\nhooks.example.com/SECRET2\n")
        let r = try await Command.run([RepoPaths.reclawBinary, "run", "--source", dir.path, "--once", "--alert-webhook-file", urls],
                                      environment: ["RECLAW_STATE_DIR": dir.file("state")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(urls):2: not an http(s) URL"), "\(r.stderr)")
        #expect(!r.stderr.contains("SECRET"))
        let missing = try await Command.run([RepoPaths.reclawBinary, "run", "--source", dir.path, "--once", "--alert-webhook-file", dir.file("none")],
                                            environment: ["RECLAW_STATE_DIR": dir.file("state")])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read the alert webhook file \(dir.file("none"))"))
    }

    @Test func aUsageErrorExitsSixtyFour() async throws {
        let r = try await Command.run([RepoPaths.reclawBinary, "run", "--source", "/tmp", "--interval", "soon"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--interval takes a duration"))
    }

    @Test func sigtermDuringAnApplyExitsZeroWithNothingHalfRecordedAndTheNextStartConverges() async throws {
        let w = try Workspace(emulator: emulator, region: "il-central-1")
        let revision = try w.upstream.commit(["deployments/app.yaml": minimalSpec(w.name, region: w.region)])
        // Build the region's emulator backends first (seconds on first touch), read-only.
        try await Command.check([RepoPaths.reclawBinary, "plan", "--path", "deployments", w.upstream.url],
                                environment: w.env.merging(["RECLAW_STATE_DIR": w.dir.file("warmup")]) { $1 })
        let slow = try await emulator.injectDelay(userAgent: "deployment/\(w.name);", milliseconds: 300)
        let process = try Command.launch(w.run("--interval", "1h", "--drift-interval", "1h"), environment: w.env)
        async let logs = Command.offThread { String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        let auditLog = w.auditLog
        let pid = process.processIdentifier
        let applied: @Sendable () -> Int = { ((try? String(contentsOfFile: auditLog, encoding: .utf8)) ?? "").components(separatedBy: "\"eventType\":\"ActionApplied\"").count - 1 }
        let appliedAtSignal = try await Command.offThread {
            let deadline = ContinuousClock.now + .seconds(90)
            while applied() < 4 && process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
            let n = applied()
            kill(pid, SIGTERM)
            return n
        }
        try await Command.offThread { process.waitUntilExit() }
        try await emulator.removeFault(slow)
        let stderr = try await logs
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(stderr.suffix(3000))")
        #expect(appliedAtSignal >= 4 && appliedAtSignal < 18, "the signal did not land mid-apply (\(appliedAtSignal) actions)")
        #expect(stderr.contains("shutting down"))

        // Nothing half-recorded: every audit line is whole, no create is left open in the journal,
        // and the status says the apply was interrupted, not failed.
        let lines = try String(contentsOfFile: auditLog, encoding: .utf8).split(separator: "\n")
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        let journal = (try? String(contentsOfFile: w.dir.file("state/journal/\(w.name).json"), encoding: .utf8)) ?? "[]"
        #expect(journal.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "open creates: \(journal)")
        let interrupted = try await w.status()
        #expect(w.condition(interrupted, "Ready")?.reason == "Interrupted")
        #expect(interrupted["lastAttemptedRevision"] as? String == revision)
        #expect(interrupted["lastAppliedRevision"] == nil || interrupted["lastAppliedRevision"] is NSNull)

        let resumed = try await Command.run(w.run("--once"), environment: w.env)
        #expect(resumed.status == 2, "\(resumed.stderr.suffix(3000))")
        let seen = try await emulator.resourceCounts(w.name, region: w.region)
        #expect(seen.count == 19 && seen.values.allSatisfy { $0 == 1 }, "\(seen)")
        let ready = try await w.status()
        #expect(w.condition(ready, "Ready")?.status == true)
        #expect(ready["lastAppliedRevision"] as? String == revision)
    }
}
