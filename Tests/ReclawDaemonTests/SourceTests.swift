import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawGit
import ReclawProviderAWS
import ReclawSource
import ReclawSpec
import ReclawTestSupport
import Testing

/// Real git repositories: pushes, force-pushes, invalid specs, a vanishing remote, transports.
@Suite struct SourceTests {
    func paramValue(_ h: DaemonHarness, _ name: String, region: String, _ leaf: String) async throws -> String? {
        try await SSMClient(client: h.client, region: region).parameters(["/openclaw/\(name)/\(leaf)"]).first?.value
    }

    @Test(arguments: ["file", "git"])
    func aPushIsAppliedWithinTheInterval(transport: String) async throws {
        let upstream = try Upstream()
        let name = uniqueName("push")
        let region = "eu-central-1"
        let first = try upstream.commit(["specs/app.yaml": DaemonHarness.spec(name, region: region)])
        let daemonServer = transport == "git" ? try ServerProcess.gitDaemon(base: upstream.dir.path) : nil
        let url = daemonServer.map { $0.url + "/upstream.git" } ?? upstream.url
        let h = try DaemonHarness(upstream: upstream, url: url)
        try await h.running {
            #expect(await eventually { h.status(name)?.lastAppliedRevision == first }, "the first revision was not applied")
            let pushed = Date()
            let second = try upstream.commit(["specs/app.yaml": DaemonHarness.spec(name, region: region, version: "2026.3.0")])
            #expect(await eventually { h.status(name)?.lastAppliedRevision == second }, "the push was not applied")
            // The interval is one second (±10%): the push is picked up by one of the next fetches.
            // The bound leaves room for a loaded machine; how fast a pass is, bench/bench.py measures.
            let seen = try #require(h.events(.sourceUpdated).first { $0.revision == second }?.date)
            #expect(seen.timeIntervalSince(pushed) < 10, "picked up \(seen.timeIntervalSince(pushed))s after the push")
            #expect(try await paramValue(h, name, region: region, "version") == "2026.3.0")
        }
        #expect(h.status(name)?.condition(.ready)?.status == .true)
        #expect(h.events(.sourceUpdated).count >= 2)
        daemonServer?.stop()
    }

    @Test func aRevisionThatLeavesTheSpecAloneIsInForceWithoutTouchingAWS() async throws {
        let upstream = try Upstream()
        let name = uniqueName("same")
        let region = "eu-central-1"
        try upstream.commit(["specs/app.yaml": DaemonHarness.spec(name, region: region)])
        let h = try DaemonHarness(upstream: upstream)
        #expect(await h.daemon.sourcePass().applied[name]?.converged == true)
        let plansBefore = h.events(.planComputed).count
        let revision = try upstream.commit(["README.md": "specs for the team"])
        let report = await h.daemon.sourcePass()
        #expect(report.applied[name] == nil && !report.failed)
        #expect(h.events(.planComputed).count == plansBefore)
        let status = try #require(h.status(name))
        #expect(status.lastAppliedRevision == revision)
        #expect(status.condition(.ready)?.message == "applied revision \(revision)")
    }

    @Test func anInvalidSpecIsReportedAndLeftAsItWasWhileTheOthersProceed() async throws {
        let upstream = try Upstream()
        let good = uniqueName("good"), other = uniqueName("other")
        let region = "eu-central-1"
        try upstream.commit(["a.yaml": DaemonHarness.spec(good, region: region), "b.yaml": DaemonHarness.spec(other, region: region)])
        let h = try DaemonHarness(upstream: upstream)
        let first = await h.daemon.sourcePass()
        #expect(first.applied.count == 2 && !first.failed)
        // Break one spec and change the other in the same push.
        let broken = DaemonHarness.spec(other, region: region).replacingOccurrences(of: "openclaw:", with: "openclaw:\n    gatewayPort: 99999\n  openClaw:")
        let revision = try upstream.commit(["a.yaml": DaemonHarness.spec(good, region: region, version: "2026.3.0"), "b.yaml": broken])
        let report = await h.daemon.sourcePass()
        #expect(report.invalid == [other])
        #expect(report.applied[good]?.converged == true)
        #expect(h.status(good)?.lastAppliedRevision == revision)
        let status = try #require(h.status(other))
        #expect(status.condition(.ready)?.reason == .invalidSpec)
        #expect(status.condition(.ready)?.message.contains("b.yaml:") == true)
        #expect(status.lastAppliedRevision != revision)
        let failure = try #require(h.events(.reconcileFailed).first { $0.deployment == other })
        #expect(failure.errorMessage?.contains("b.yaml:7:") == true)
        // The invalid deployment was left exactly as it was: its last applied spec still matches AWS.
        let planned = try await h.reconciler.plan([ReconcileTarget(spec: status.lastAppliedSpec!, revision: "check")])[0].get()
        #expect(!planned.plan.hasChanges)
    }

    @Test func aTypoInKindALinkOrAnInvalidNameInPlaceOfASpecNeverPrunesItsDeployment() async throws {
        let upstream = try Upstream()
        let keep = uniqueName("keep"), other = uniqueName("other")
        let region = "eu-central-1"
        try upstream.commit(["a.yaml": DaemonHarness.spec(keep, region: region), "b.yaml": DaemonHarness.spec(other, region: region)])
        let h = try DaemonHarness(upstream: upstream, options: DaemonOptions(interval: .seconds(1), driftInterval: .seconds(3600), prune: true))
        let first = await h.daemon.sourcePass()
        #expect(first.applied.count == 2 && !first.failed, "\(first)")

        func stillThere(_ why: String) async throws {
            let status = try #require(h.status(other), "\(why): the status is gone")
            #expect(status.holds(.ready), "\(why)")
            let planned = try await h.reconciler.plan([ReconcileTarget(spec: status.lastAppliedSpec!, revision: "check")])[0].get()
            #expect(!planned.plan.hasChanges, "\(why): the deployment's resources changed")
        }

        // One letter off in kind: an error, never "someone else's YAML" that looks deleted.
        let typo = DaemonHarness.spec(other, region: region).replacingOccurrences(of: "kind: OpenClawDeployment", with: "kind: OpenclawDeployment")
        try upstream.commit(["b.yaml": typo])
        var report = await h.daemon.sourcePass()
        #expect(report.pruned.isEmpty, "a misspelled kind pruned \(report.pruned)")
        try await stillThere("kind typo")

        // The spec replaced by a link (to a file the daemon never reads through it).
        try FileManager.default.removeItem(atPath: upstream.work + "/b.yaml")
        try FileManager.default.createSymbolicLink(atPath: upstream.work + "/b.yaml", withDestinationPath: "a.yaml")
        try upstream.commit([:])
        report = await h.daemon.sourcePass()
        #expect(report.pruned.isEmpty, "a link pruned \(report.pruned)")
        try await stillThere("link")

        // A name that is a path: never a file name, inside or outside the state directory.
        try FileManager.default.removeItem(atPath: upstream.work + "/b.yaml")
        try upstream.commit(["b.yaml": DaemonHarness.spec("../../../../elsewhere/pwned", region: region)])
        report = await h.daemon.sourcePass()
        #expect(report.pruned.isEmpty, "an invalid name pruned \(report.pruned)")
        try await stillThere("invalid name")
        let written = FileManager.default.enumerator(atPath: h.dir.path)?.allObjects as? [String] ?? []
        #expect(!written.contains { $0.contains("pwned") || $0.contains("elsewhere") }, "\(written)")
        let escaped = URL(fileURLWithPath: h.state.path(for: "../../../../elsewhere/pwned")).standardized.path
        #expect(!FileManager.default.fileExists(atPath: escaped), "\(escaped) was written")
        #expect(h.status(keep)?.holds(.ready) == true)
    }

    @Test func aRemoteThatGoesAwayLeavesTheLastGoodRevisionInForce() async throws {
        let upstream = try Upstream()
        let name = uniqueName("away")
        let revision = try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: "eu-central-1")])
        let h = try DaemonHarness(upstream: upstream)
        #expect(await h.daemon.sourcePass().applied[name]?.converged == true)
        try FileManager.default.moveItem(atPath: upstream.bare, toPath: upstream.bare + ".gone")
        let report = await h.daemon.sourcePass()
        #expect(report.sourceError?.contains("upstream.git") == true)
        #expect(h.daemon.revision == revision)
        #expect(h.status(name)?.condition(.ready)?.status == .true && h.status(name)?.lastAppliedRevision == revision)
        let failed = try #require(h.events(.sourceFailed).last)
        #expect(failed.revision == revision && failed.message?.contains("stays in force") == true)
        try FileManager.default.moveItem(atPath: upstream.bare + ".gone", toPath: upstream.bare)
        #expect(await h.daemon.sourcePass().sourceError == nil)
    }

    @Test func aForcePushIsFollowed() async throws {
        let upstream = try Upstream()
        let name = uniqueName("force")
        let region = "eu-central-1"
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region)])
        let h = try DaemonHarness(upstream: upstream)
        _ = await h.daemon.sourcePass()
        try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region, version: "2026.3.0")])
        _ = await h.daemon.sourcePass()
        try upstream.git("reset", "-q", "--hard", "HEAD~1")
        let rewritten = try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region, version: "2026.4.0")], message: "rewrite")
        let report = await h.daemon.sourcePass()
        #expect(report.revision == rewritten && report.applied[name]?.converged == true)
        #expect(try await SSMClient(client: h.client, region: region).parameters(["/openclaw/\(name)/version"]).first?.value == "2026.4.0")
    }

    @Test func anHTTPSourceNeedsItsTokenWhichNeverAppearsInErrors() async throws {
        let upstream = try Upstream()
        let name = uniqueName("http")
        let revision = try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: "eu-central-1")])
        let token = "tok-\(UUID().uuidString)"
        let server = try ServerProcess.gitHTTP(base: upstream.dir.path, username: "x-access-token", token: token)
        defer { server.stop() }
        let url = server.url + "/upstream.git"
        let wrong = try DaemonHarness(upstream: upstream, url: url, credentials: .token(username: "x-access-token", token: "not-\(token)"))
        let refused = await wrong.daemon.sourcePass()
        let error = try #require(refused.sourceError)
        #expect(!error.contains(token) && !error.contains("not-\(token)"))
        #expect(error.contains("the server refused the credentials"), "\(error)")
        let env = ["RECLAW_GIT_TOKEN": token]
        let credentials = try GitCredentialSettings.credentials(for: url, environment: env)
        let right = try DaemonHarness(upstream: upstream, url: url, credentials: credentials)
        #expect(await right.daemon.sourcePass().revision == revision)
    }

    @Test func aCredentialsFileGivesItsHostsEntryAndOneThatCannotBeReadIsAnError() throws {
        let dir = TemporaryDirectory()
        let missing = dir.file("no-such-credentials")
        #expect {
            try GitCredentialSettings.credentials(for: "https://git.example.com/specs.git", environment: ["RECLAW_GIT_CREDENTIALS_FILE": missing])
        } throws: { "\($0)".contains("RECLAW_GIT_CREDENTIALS_FILE \(missing)") }
        let file = dir.write("credentials", "https://other:nope@example.com\nhttps://bot:s3cret@git.example.com\n")
        let found = try GitCredentialSettings.credentials(for: "https://git.example.com/specs.git", environment: ["RECLAW_GIT_CREDENTIALS_FILE": file])
        guard case .token("bot", "s3cret") = found else {
            Issue.record("the credentials file's entry for the host was not used: \(String(describing: found))")
            return
        }
        #expect(try GitCredentialSettings.credentials(for: "https://git.example.org/specs.git", environment: ["RECLAW_GIT_CREDENTIALS_FILE": file]) == nil)
    }

    @Test func anSSHSourceIsReadWithAKeyFileOnlyFromATrustedHost() async throws {
        let upstream = try Upstream()
        let revision = try upstream.commit(["app.yaml": DaemonHarness.spec(uniqueName("ssh"), region: "eu-central-1")])
        guard let (server, key, hostKey, port) = try ServerProcess.sshd(base: upstream.dir.path) else {
            Issue.record("sshd needs root and openssh-server (scripts/setup.sh installs it; CI runs as root)")
            return
        }
        defer { server.stop() }
        let url = server.url + "/upstream.git"
        let credentials = try GitCredentialSettings.credentials(for: url, environment: ["RECLAW_GIT_SSH_KEY": key, "RECLAW_GIT_SSH_USER": "root"])
        let fingerprint = try #require(try await Command.check(["ssh-keygen", "-lf", hostKey]).split(separator: " ").dropFirst().first.map(String.init))
        let publicKey = try String(contentsOfFile: hostKey, encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let dir = TemporaryDirectory()

        func fetch(_ env: [String: String]) throws -> String {
            let repo = try GitRepository.openOrCreateBare(at: dir.file("c-\(UUID().uuidString).git"))
            let trust = try SSHTrust.fromEnvironment(env)
            try repo.fetch(from: url, credentials: credentials, verifyHostKey: trust.isEmpty ? nil : trust.verifier)
            return try repo.resolve("main")
        }

        let unverified = #expect(throws: GitError.self) { try fetch(["HOME": dir.path]) }
        #expect(unverified?.message.contains("no trusted SSH host keys") == true)

        dir.write("other_hosts", "[127.0.0.1]:\(port) ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ\n")
        let stranger = #expect(throws: GitError.self) { try fetch(["RECLAW_GIT_SSH_KNOWN_HOSTS": dir.file("other_hosts")]) }
        #expect(stranger?.message.contains(fingerprint) == true)

        #expect(try fetch(["RECLAW_GIT_SSH_HOST_FINGERPRINT": fingerprint]) == revision)
        dir.write("known_hosts", "[127.0.0.1]:\(port) \(publicKey)\n")
        #expect(try fetch(["RECLAW_GIT_SSH_KNOWN_HOSTS": dir.file("known_hosts")]) == revision)
        try await Command.check(["ssh-keygen", "-q", "-H", "-f", dir.file("known_hosts")])
        #expect(try fetch(["RECLAW_GIT_SSH_KNOWN_HOSTS": dir.file("known_hosts")]) == revision)
        dir.write("revoked", "@revoked * \(publicKey)\n[127.0.0.1]:\(port) \(publicKey)\n")
        #expect(throws: GitError.self) { try fetch(["RECLAW_GIT_SSH_KNOWN_HOSTS": dir.file("revoked")]) }
    }
}
