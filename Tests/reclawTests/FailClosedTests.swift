import Foundation
import ReclawTestSupport
import Testing

/// What reclaw cannot read or write stops work on what it affects, visibly: driven through the
/// real binary, the way an unlucky operator meets it.
@Suite struct FailClosedTests {
    let emulator = Emulator.shared

    struct Workspace {
        let upstream: Upstream
        let dir = TemporaryDirectory("reclaw-closed")
        let region: String
        var env: [String: String]

        init(emulator: Emulator, region: String) throws {
            upstream = try Upstream()
            self.region = region
            env = emulator.environment
            env["RECLAW_STATE_DIR"] = dir.file("state")
        }

        var state: String { dir.file("state") }
        var auditLog: String { dir.file("state/audit.log") }

        func run(_ extra: String...) -> [String] {
            [RepoPaths.reclawBinary, "run", "--source", upstream.url] + extra
        }

        func events(_ type: String) -> [[String: Any]] {
            let text = (try? String(contentsOfFile: auditLog, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["eventType"] as? String == type }
        }
    }

    @Test func aCorruptStatusFileStallsItsDeploymentAloneAndNeverBreachesAnotherDeploymentsAlertPolicy() async throws {
        let w = try Workspace(emulator: emulator, region: "eu-north-1")
        let watched = uniqueName("watched"), broken = uniqueName("broken")
        try w.upstream.commit(["watched.yaml": minimalSpec(watched, region: w.region, extra: "  policy: {drift: alert}"),
                               "broken.yaml": minimalSpec(broken, region: w.region)])
        let first = try await Command.run(w.run("--once"), environment: w.env)
        #expect(first.status == 2, "\(first.stderr.suffix(3000))")
        try await emulator.openPort(22, deployment: watched, region: w.region)
        let statusFile = w.dir.file("state/deployments/\(broken).json")
        try "{\"deployment\": \"\(broken)\", \"conditions\": [".write(toFile: statusFile, atomically: true, encoding: .utf8)
        let plansBefore = w.events("PlanComputed").count

        let second = try await Command.run(w.run("--once"), environment: w.env)
        #expect(second.status == 1, "a corrupt status file was not an error: \(second.stderr.suffix(3000))")
        #expect(second.stderr.contains(statusFile), "the corrupt file was not named")
        #expect(try await emulator.openPorts(deployment: watched, region: w.region) == [22], "drift under policy.drift: alert was corrected")
        #expect(w.events("DriftDetected").contains { $0["deployment"] as? String == watched }, "the drift of the other deployment was not checked")
        #expect(w.events("PlanComputed").count == plansBefore, "a converged deployment was planned again")
        #expect(w.events("ReconcileFailed").contains { $0["deployment"] as? String == broken && $0["errorCode"] as? String == "StateUnavailable" })

        let status = try await Command.run([RepoPaths.reclawBinary, "status"], environment: w.env)
        #expect(status.status == 1)
        #expect(status.stdout.contains("\(watched) (\(w.region))") && status.stdout.contains("Ready: True"), "\(status.stdout)")
        #expect(status.stdout.contains("\(broken)\n  Status: UNREADABLE (StateCorrupt)") && status.stdout.contains(statusFile), "\(status.stdout)")
    }

    @Test func anAuditLogThatCannotBeWrittenStopsEveryAWSChange() async throws {
        let w = try Workspace(emulator: emulator, region: "eu-north-1")
        let name = uniqueName("unaudited")
        try w.upstream.commit(["app.yaml": minimalSpec(name, region: w.region)])
        try FileManager.default.createDirectory(atPath: w.auditLog, withIntermediateDirectories: true)

        let run = try await Command.run(w.run("--once"), environment: w.env)
        #expect(run.status == 1)
        #expect(run.stderr.contains("the audit log cannot be written") && run.stderr.contains(w.auditLog), "\(run.stderr.suffix(2000))")
        let apply = try await Command.run([RepoPaths.reclawBinary, "apply", "--auto-approve", w.upstream.url], environment: w.env)
        #expect(apply.status == 1)
        #expect(apply.stderr.contains("the audit log cannot record"), "\(apply.stderr.suffix(2000))")
        #expect(try await emulator.mutatingCalls(deployment: name).isEmpty, "AWS was changed without a record")
    }

    @Test func aFullDiskUnderTheAuditLogStopsEveryAWSChange() async throws {
        let w = try Workspace(emulator: emulator, region: "eu-north-1")
        let name = uniqueName("fulldisk")
        try w.upstream.commit(["app.yaml": minimalSpec(name, region: w.region)])
        // A log already at the file size limit: every further byte fails as on a full disk.
        try FileManager.default.createDirectory(atPath: w.state, withIntermediateDirectories: true)
        let existing = String(repeating: "{\"eventType\":\"SourceUpdated\"}\n", count: 2000)
        try existing.write(toFile: w.auditLog, atomically: true, encoding: .utf8)
        let blocks = (existing.utf8.count + 511) / 512
        let script = "trap '' XFSZ; ulimit -f \(blocks); exec \"$@\""
        let r = try await Command.run(["sh", "-c", script, "sh", RepoPaths.reclawBinary, "apply", "--auto-approve", w.upstream.url], environment: w.env)
        #expect(r.status == 1, "\(r.stderr.suffix(2000))")
        #expect(try await emulator.mutatingCalls(deployment: name).isEmpty, "AWS was changed without a record")
        let text = try String(contentsOfFile: w.auditLog, encoding: .utf8)
        #expect(text.hasPrefix(existing) && text.split(separator: "\n").allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") }, "a torn line")
    }

    @Test func aSecondDaemonOnTheSameStateDirectoryRefusesToStart() async throws {
        let w = try Workspace(emulator: emulator, region: "eu-north-1")
        try w.upstream.commit(["README.md": "no specs yet"])
        let first = try Command.launch(w.run("--interval", "1h", "--drift-interval", "1h"), environment: w.env)
        defer {
            kill(first.processIdentifier, SIGTERM)
            first.waitUntilExit()
        }
        #expect(await waitFor { FileManager.default.fileExists(atPath: w.dir.file("state/reclaw.lock")) })
        let second = try await Command.run(w.run("--once"), environment: w.env)
        #expect(second.status == 1)
        #expect(second.stderr.contains("is in use by another reclaw process (pid \(first.processIdentifier)"), "\(second.stderr)")
        let apply = try await Command.run([RepoPaths.reclawBinary, "apply", "--auto-approve", w.upstream.url], environment: w.env)
        #expect(apply.status == 1 && apply.stderr.contains("in use by another reclaw process"))
    }

    func waitFor(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<300 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }
}
