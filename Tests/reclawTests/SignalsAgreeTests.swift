import Foundation
import ReclawHTTP
import ReclawTestSupport
import Testing

/// Every signal an operator reads tells the same truth: when a pushed commit breaks one of two
/// deployments, `/metrics`, `/healthz`, `reclaw status` and the alert all say it is Stalled for
/// InvalidSpec, by name, bounded however many errors the spec has, with the count `validate` gives.
@Suite struct SignalsAgreeTests {
    let emulator = Emulator.shared

    /// Polls `probe` until it returns a value, for up to `seconds`; the last failure is reported.
    func eventually<T>(_ what: String, seconds: Int = 240, _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var last: Error?
        while ContinuousClock.now < deadline {
            do { if let value = try await probe() { return value } } catch { last = error }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("timed out waiting for \(what)\(last.map { ": \($0)" } ?? "")")
        throw CancellationError()
    }

    func get(_ url: String) async throws -> (status: Int, body: String) {
        let r = try await HTTPClient().send(HTTPRequest(url: url, connectTimeout: .seconds(2), timeout: .seconds(10)))
        return (r.status, r.bodyText)
    }

    /// `reclaw_deployment_condition` for one deployment: type → the status whose sample is 1.
    func conditions(_ metrics: String, _ name: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in metrics.split(separator: "\n") where line.hasPrefix("reclaw_deployment_condition{") && (line.hasSuffix(" 1") || line.hasSuffix(" 1.0"))
            && line.contains("deployment=\"\(name)\"") {
            func label(_ key: String) -> String? {
                guard let r = line.range(of: "\(key)=\"") else { return nil }
                return String(line[r.upperBound...].prefix { $0 != "\"" })
            }
            if let type = label("type"), let status = label("status") { out[type] = status }
        }
        return out
    }

    @Test func aCommitBreakingOneOfTwoDeploymentsIsStalledInvalidSpecInMetricsHealthStatusAndTheAlert() async throws {
        let upstream = try Upstream()
        let dir = TemporaryDirectory("reclaw-signals")
        let good = uniqueName("good"), broken = uniqueName("broken")
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        try upstream.commit(["deployments/good.yaml": minimalSpec(good, region: "ca-central-1"),
                             "deployments/broken.yaml": minimalSpec(broken, region: "eu-west-3")])
        let receiver = try EchoServer()
        let port = try MetricsAddressTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let process = try Command.launch([RepoPaths.reclawBinary, "run", "--source", upstream.url, "--path", "deployments", "--interval", "1s",
                                          "--drift-interval", "1h", "--metrics-address", "127.0.0.1:\(port)", "--alert-webhook", receiver.url + "/record"],
                                         environment: env)
        async let logs = Command.offThread { String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        defer { if process.isRunning { process.terminate() } }

        func rows() async throws -> [String: [String: Any]] {
            let out = try await Command.check([RepoPaths.reclawBinary, "status", "--json"], environment: env)
            let rows = (try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]) ?? []
            return Dictionary(rows.map { ($0["deployment"] as? String ?? "", $0) }) { a, _ in a }
        }
        func condition(_ row: [String: Any]?, _ type: String) -> (status: String, reason: String)? {
            guard let c = (row?["conditions"] as? [[String: Any]])?.first(where: { $0["type"] as? String == type }) else { return nil }
            return (c["status"] as? String ?? "", c["reason"] as? String ?? "")
        }

        // Both applied first.
        _ = try await eventually("both deployments Ready") { () -> Bool? in
            let r = try await rows()
            return [good, broken].allSatisfy { condition(r[$0], "Ready")?.status == "True" } ? true : nil
        }
        // Then a push breaks one of them, with 400 errors.
        let unknown = (1...400).map { "  unknownField\($0): value; with a semicolon \($0)" }.joined(separator: "\n")
        try upstream.commit(["deployments/broken.yaml": minimalSpec(broken, region: "eu-west-3", extra: unknown)])

        // reclaw status: Stalled True, InvalidSpec; the good one untouched.
        let row = try await eventually("the broken deployment Stalled") { () -> [String: Any]? in
            let r = try await rows()
            return condition(r[broken], "Stalled")?.status == "True" ? r[broken] : nil
        }
        #expect(condition(row, "Stalled")?.reason == "InvalidSpec")
        #expect(condition(row, "Ready")?.status == "False" && condition(row, "Ready")?.reason == "InvalidSpec")
        #expect(condition(try await rows()[good], "Ready")?.status == "True")
        let text = try await Command.check([RepoPaths.reclawBinary, "status"], environment: env)
        #expect(text.utf8.count < 6 * 1024, "reclaw status printed \(text.utf8.count) bytes")
        #expect(text.contains("\(broken) (eu-west-3)\n  Ready: False (InvalidSpec)") && text.contains("and 395 more errors"), "\(text.prefix(3000))")
        #expect(text.contains("  Stalled: True (InvalidSpec)"))

        // /metrics: the same conditions.
        let metrics = try await get(base + "/metrics").body
        #expect(conditions(metrics, broken) == ["Ready": "False", "Stalled": "True", "Reconciling": "False"], "\(conditions(metrics, broken))")
        #expect(conditions(metrics, good)["Ready"] == "True" && conditions(metrics, good)["Stalled"] == "False")

        // /healthz: still serving (a stalled deployment is no reason to restart reclaw), naming it with its reason.
        let health = try await get(base + "/healthz")
        #expect(health.status == 200)
        #expect(health.body.hasPrefix("ok") && health.body.contains("stalled: \(broken) (InvalidSpec: "), "\(health.body)")
        #expect(!health.body.contains(good))

        // The alert: the deployment, InvalidSpec, stalled, and validate's count of errors.
        let validate = try await Command.run([RepoPaths.reclawBinary, "validate", "--json", upstream.work + "/deployments"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(validate.stdout.utf8)) as? [String: Any])
        let errors = try #require(report["errors"] as? Int)
        #expect(errors == 400)
        let alert = try await eventually("the InvalidSpec alert", seconds: 30) { () -> [String: Any]? in
            let records = (try JSONSerialization.jsonObject(with: Data(try await receiver.records().utf8)) as? [[String: Any]]) ?? []
            return records.compactMap { r in (r["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
                .first { $0["errorCode"] as? String == "InvalidSpec" && $0["deployment"] as? String == broken }
        }
        #expect((alert["details"] as? [String: Any])?["errors"] as? Int == errors)
        #expect((alert["message"] as? String)?.contains("\(broken): stalled:") == true && (alert["message"] as? String)?.contains("(400 errors)") == true)
        #expect((alert["errorMessage"] as? String)?.split(separator: "\n").count == errors)

        kill(process.processIdentifier, SIGTERM)
        try await Command.offThread { process.waitUntilExit() }
        let stderr = try await logs
        #expect(process.terminationStatus == 0, "\(stderr.suffix(2000))")
    }

    @Test func aMistypedSourceIsAUsageErrorNamingItBeforeAnythingIsWritten() async throws {
        let dir = TemporaryDirectory("reclaw-source")
        // Neither an explicit nor the default state directory is made.
        let env = ["RECLAW_STATE_DIR": dir.file("state"), "AWS_REGION": "us-east-1"]
        let defaults = ["HOME": dir.file("home"), "XDG_STATE_HOME": dir.file("xdg"), "RECLAW_STATE_DIR": "", "AWS_REGION": "us-east-1"]
        let missing = try await Command.run([RepoPaths.reclawBinary, "run", "--source", "./no-such-dir"], environment: env, directory: dir.path)
        #expect(missing.status == 64, "\(missing.stderr)")
        #expect(missing.stderr.contains("'./no-such-dir': no such directory"), "\(missing.stderr)")
        let unset = try await Command.run([RepoPaths.reclawBinary, "run", "--source", "./no-such-dir", "--once"], environment: defaults, directory: dir.path)
        #expect(unset.status == 64, "\(unset.stderr)")
        for (value, says) in [("https://", "names no host"), ("ftp://example.com/specs.git", "ftp:// is not supported"),
                              ("file:///no/such/repo.git", "file:///no/such/repo.git': no such directory"),
                              ("git@example.com:org/specs.git", "ssh://git@example.com/org/specs.git")] {
            let r = try await Command.run([RepoPaths.reclawBinary, "run", "--source", value], environment: env, directory: dir.path)
            #expect(r.status == 64 && r.stderr.contains(says), "\(value): \(r.status) \(r.stderr)")
        }
        let file = dir.write("a-file.yaml", "not a directory")
        let notDirectory = try await Command.run([RepoPaths.reclawBinary, "run", "--source", file], environment: env)
        #expect(notDirectory.status == 64 && notDirectory.stderr.contains("is a file, not a directory"), "\(notDirectory.stderr)")
        // plan, apply, drift and posture read SOURCE the same way.
        for command in ["plan", "apply", "drift", "posture"] {
            let r = try await Command.run([RepoPaths.reclawBinary, command, "./no-such-dir"], environment: env, directory: dir.path)
            #expect(r.status == 64 && r.stderr.contains("'./no-such-dir': no such directory"), "\(command): \(r.status) \(r.stderr)")
        }
        let written = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        #expect(Set(written) == ["a-file.yaml"], "written: \(written)")
    }

    @Test func thePermissionsBoundaryWarningComesOnlyWhenAPlanWouldCreateARoleOncePerDeployment() async throws {
        let dir = TemporaryDirectory("reclaw-boundary")
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        env["RECLAW_PERMISSIONS_BOUNDARY"] = ""
        let first = uniqueName("bound"), second = uniqueName("bound")
        _ = dir.write("specs/a.yaml", minimalSpec(first, region: "ca-central-1"))
        _ = dir.write("specs/b.yaml", minimalSpec(second, region: "eu-west-3"))
        let warning = "the plan creates an IAM role without a permissions boundary"
        func warnings(_ stderr: String, _ name: String) -> Int {
            stderr.split(separator: "\n").filter { $0.contains(warning) && $0.contains("deployment=\(name)") }.count
        }

        let plan = try await Command.run([RepoPaths.reclawBinary, "plan", dir.file("specs")], environment: env)
        #expect(plan.status == 0, "\(plan.stderr.suffix(2000))")
        #expect(warnings(plan.stderr, first) == 1 && warnings(plan.stderr, second) == 1, "\(plan.stderr.suffix(3000))")
        #expect(plan.stderr.contains("--permissions-boundary"))
        let bounded = try await Command.run([RepoPaths.reclawBinary, "plan", "--permissions-boundary", "arn:aws:iam::111122223333:policy/reclaw-boundary",
                                            dir.file("specs")], environment: env)
        #expect(bounded.status == 0 && !bounded.stderr.contains(warning), "\(bounded.stderr.suffix(2000))")
        let posture = try await Command.run([RepoPaths.reclawBinary, "posture", dir.file("specs")], environment: env)
        #expect(!posture.stderr.contains(warning) && !posture.stderr.contains("refuses to create them"), "\(posture.stderr.suffix(2000))")
        let validate = try await Command.run([RepoPaths.reclawBinary, "validate", dir.file("specs")], environment: env)
        #expect(!validate.stderr.contains("boundary"))

        let apply = try await Command.run([RepoPaths.reclawBinary, "apply", "--auto-approve", dir.file("specs")], environment: env)
        #expect(apply.status == 0, "\(apply.stderr.suffix(2000))")
        #expect(warnings(apply.stderr, first) == 1, "\(apply.stderr.suffix(3000))")
        // Once the roles exist, nothing would create one: no warning.
        let again = try await Command.run([RepoPaths.reclawBinary, "plan", dir.file("specs")], environment: env)
        #expect(again.status == 0 && !again.stderr.contains(warning), "\(again.stderr.suffix(2000))")
    }
}
