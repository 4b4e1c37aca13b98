import Foundation
import ReclawTestSupport
import Testing

/// A `kill -9` in the middle of an apply (after 1, 6 and 12 of its 18 actions), then another apply:
/// it converges, with no duplicate and no orphaned resource, and the audit log stays readable.
@Suite struct ApplyCrashTests {
    let emulator = Emulator.shared

    /// How many ActionApplied events the audit log holds.
    func applied(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").components(separatedBy: "\"eventType\":\"ActionApplied\"").count - 1
    }

    @Test(arguments: [(1, "eu-west-1"), (6, "us-west-1"), (12, "us-west-2")])
    func aKilledApplyConvergesOnRerunWithoutDuplicates(killAfterActions: Int, region: String) async throws {
        let dir = TemporaryDirectory("reclaw-crash")
        let name = uniqueName("crash")
        dir.write("specs/app.yaml", minimalSpec(name, region: region))
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        // A read-only plan first: the emulator builds a region's backends on first touch (seconds).
        try await Command.check([RepoPaths.reclawBinary, "plan", dir.file("specs")], environment: env.merging(["RECLAW_STATE_DIR": dir.file("warmup")]) { $1 })
        // Slow every call of this deployment so the kill lands mid-apply.
        let slow = try await emulator.injectDelay(userAgent: "deployment/\(name);", milliseconds: 250)
        let process = try Command.launch([RepoPaths.reclawBinary, "apply", "--auto-approve", dir.file("specs")], environment: env)
        // Watched from a dispatch thread, which busy test tasks on the cooperative pool cannot delay.
        let auditPath = dir.file("state/audit.log")
        let pid = process.processIdentifier
        try await Command.offThread { [self] in
            let deadline = ContinuousClock.now + .seconds(60)
            while applied(auditPath) < killAfterActions && process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        try await emulator.removeFault(slow)
        let reported = String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .uncaughtSignal, "exited \(process.terminationStatus) before the kill: \(reported.suffix(2000))")
        // An event is logged only after it is appended and fsync'd: every one the killed run reported is in the file.
        let reportedIDs = reported.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "audit.id=") else { return nil }
            return String(line[r.upperBound...].prefix { $0 != " " })
        }
        let written = try String(contentsOfFile: dir.file("state/audit.log"), encoding: .utf8)
        #expect(written.contains("\"eventType\":\"ActionApplied\""), "the kill came before the apply started")
        for id in reportedIDs { #expect(written.contains("\"eventID\":\"\(id)\""), "event \(id) was reported but not written") }

        let rerun = try await Command.run([RepoPaths.reclawBinary, "apply", "--auto-approve", dir.file("specs")], environment: env)
        #expect(rerun.status == 0, "\(rerun.stdout)\n\(rerun.stderr)")
        let seen = try await emulator.resourceCounts(name, region: region)
        #expect(seen.values.allSatisfy { $0 == 1 }, "duplicates: \(seen)")
        #expect(seen.count == 19, "\(seen)")
        let plan = try await Command.run([RepoPaths.reclawBinary, "plan", "--detailed-exitcode", dir.file("specs")], environment: env)
        #expect(plan.status == 0, "\(plan.stdout)")

        // Every line of the audit log but a torn last one parses, and the rerun appended cleanly after it.
        let log = try String(contentsOfFile: dir.file("state/audit.log"), encoding: .utf8)
        let lines = log.split(separator: "\n")
        let unreadable = lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) == nil }
        #expect(unreadable.count <= 1)
        #expect(lines.last.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil } == true)
    }
}
