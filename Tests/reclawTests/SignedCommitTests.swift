import Foundation
import ReclawTestSupport
import Testing

/// `--allowed-signers` and `--trusted-keys` through the real binary: refused revisions stop
/// `plan` with one line and leave AWS alone under `run`.
@Suite struct SignedCommitTests {
    let keys = SigningKeys()

    func allowed() throws -> String {
        keys.allowedSigners(["alice@example.com namespaces=\"git\" \(try keys.publicKey("alice"))"])
    }

    func events(_ log: String, _ type: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["eventType"] as? String == type }
    }

    @Test func planExitsOneWithOneLineOnEachRefusedCase() async throws {
        try keys.ssh("alice")
        try keys.ssh("mallory")
        let state = TemporaryDirectory("reclaw-signed-state")
        let env = ["RECLAW_STATE_DIR": state.path, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"]
        let upstream = try Upstream()
        let allowed = try allowed()
        func plan(_ expected: String, _ extra: [String] = []) async throws {
            let result = try await Command.run([RepoPaths.reclawBinary, "plan", upstream.url, "--allowed-signers", allowed] + extra, environment: env)
            #expect(result.status == 1, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { $0.contains("refused") }
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(lines.first?.contains(expected) == true, "\(result.stderr)")
        }
        let unsigned = try upstream.commit(["README": "unsigned"])
        try await plan("commit \(unsigned) refused: unsigned")
        try upstream.signWithSSH(try keys.ssh("mallory"))
        try upstream.commit(["README": "mallory"])
        try await plan("refused: untrusted signer SHA256:")
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.commit(["README": "alice"])
        try upstream.alterHeadAfterSigning()
        try await plan("refused: bad signature")
        let expired = keys.allowedSigners(["alice@example.com valid-before=\"20200101Z\" \(try keys.publicKey("alice"))"], file: "expired")
        try upstream.commit(["README": "alice again"])
        let result = try await Command.run([RepoPaths.reclawBinary, "plan", upstream.url, "--allowed-signers", expired], environment: env)
        #expect(result.status == 1)
        #expect(result.stderr.contains("refused: key not valid at the commit time"), "\(result.stderr)")
    }

    @Test func signatureOptionsWithADirectoryOrABrokenKeyFileAreErrors() async throws {
        try keys.ssh("alice")
        let dir = TemporaryDirectory("reclaw-signed-dir")
        let usage = try await Command.run([RepoPaths.reclawBinary, "plan", dir.path, "--allowed-signers", try allowed()])
        #expect(usage.status == 64, "\(usage.stderr)")
        let broken = keys.allowedSigners(["# team", "alice cert-authority \(try keys.publicKey("alice"))"], file: "broken")
        let upstream = try Upstream()
        try upstream.commit(["README": "x"])
        let start = try await Command.run([RepoPaths.reclawBinary, "plan", upstream.url, "--allowed-signers", broken],
                                          environment: ["RECLAW_STATE_DIR": dir.file("state")])
        #expect(start.status == 1)
        #expect(start.stderr.contains("\(broken):2:") && start.stderr.contains("cert-authority"), "\(start.stderr)")
    }

    @Test func theDaemonAppliesSignedRevisionsAndRefusesAnUnsignedOneWithoutTouchingAWS() async throws {
        let emulator = Emulator.shared
        try keys.ssh("alice")
        let upstream = try Upstream()
        let dir = TemporaryDirectory("reclaw-signed-run")
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        let log = dir.file("state/audit.log")
        let region = "eu-west-3"
        let first = uniqueName("signed"), second = uniqueName("sneaked")
        let run = [RepoPaths.reclawBinary, "run", "--source", upstream.url, "--allowed-signers", try allowed(), "--once"]

        try upstream.signWithSSH(try keys.ssh("alice"))
        let good = try upstream.commit(["a.yaml": minimalSpec(first, region: region)])
        let applied = try await Command.run(run, environment: env)
        #expect(applied.status == 2, "\(applied.stderr.suffix(3000))")
        #expect(events(log, "SourceUpdated").contains { ($0["details"] as? [String: Any])?["signer"] as? String == "alice@example.com" })
        // A deployment first applied at a signed revision names its signer at once.
        let signed = try await Command.run([RepoPaths.reclawBinary, "status"], environment: env)
        #expect(signed.stdout.contains("Signed by: alice@example.com"), "\(signed.stdout)")
        #expect(signed.stdout.contains("SourceVerified: True (SignatureVerified)"), "\(signed.stdout)")

        try upstream.stopSigning()
        let unsigned = try upstream.commit(["b.yaml": minimalSpec(second, region: region)])
        let calls = events(log, "AwsApiCall").count
        let refused = try await Command.run(run, environment: env)
        #expect(refused.status == 1, "\(refused.stderr.suffix(3000))")
        let rejected = events(log, "SourceRejected")
        #expect(rejected.count == 1)
        #expect(rejected.first?["revision"] as? String == unsigned && rejected.first?["errorCode"] as? String == "unsigned")
        #expect(!events(log, "PlanComputed").contains { $0["deployment"] as? String == second }, "the refused revision was planned")
        let mutating = ["Create", "Run", "Authorize", "Put", "Attach", "Modify", "Delete", "Terminate"]
        #expect(!events(log, "AwsApiCall").dropFirst(calls).contains { e in mutating.contains { (e["eventName"] as? String ?? "").hasPrefix($0) } },
                "AWS was changed for the refused revision")
        let status = try await Command.run([RepoPaths.reclawBinary, "status"], environment: env)
        #expect(status.stdout.contains("SourceVerified: False (SignatureRefused)"), "\(status.stdout)")

        try upstream.signWithSSH(try keys.ssh("alice"))
        let next = try upstream.commit(["c.txt": "signed again"])
        let again = try await Command.run(run, environment: env)
        #expect(again.status == 2, "\(again.stderr.suffix(3000))")
        #expect(events(log, "PlanComputed").contains { $0["deployment"] as? String == second && $0["revision"] as? String == next })
        _ = good
    }
}
