import Foundation
import ReclawTestSupport
import Testing

/// deploy/systemd: a unit systemd accepts, hardened, whose command line reclaw runs.
@Suite struct SystemdUnitTests {
    /// The unit with its ExecStart pointing at the built binary: `verify` checks that it exists.
    func unitForThisBuild(_ dir: TemporaryDirectory) throws -> String {
        let unit = try DeployFiles.text("deploy/systemd/reclaw.service").replacingOccurrences(of: "/usr/local/bin/reclaw", with: RepoPaths.reclawBinary)
        return dir.write("reclaw.service", unit)
    }

    @Test func systemdAnalyzeVerifiesTheUnit() async throws {
        let dir = TemporaryDirectory("reclaw-systemd")
        let r = try await Command.run(["systemd-analyze", "verify", try unitForThisBuild(dir)], directory: dir.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stderr.contains("reclaw.service:"), "\(r.stderr)")
    }

    @Test func theUnitsExposureStaysLow() async throws {
        let dir = TemporaryDirectory("reclaw-systemd")
        let r = try await Command.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", try unitForThisBuild(dir)], directory: dir.path)
        #expect(r.status == 0, "\(r.stdout.suffix(3000))")
        let score = r.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
        let value = score.flatMap { $0.split(separator: ":").last?.split(separator: " ").first }.flatMap { Double($0) }
        #expect(value.map { $0 <= 2.0 } == true, "\(score ?? "no score")")
    }

    @Test func theUnitRunsAsADynamicUserWithStrictProtections() throws {
        let settings = Set(try DeployFiles.text("deploy/systemd/reclaw.service").split(separator: "\n").map(String.init))
        for line in ["DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=reclaw", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
                     "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "ProtectHome=yes", "PrivateTmp=yes", "SystemCallFilter=@system-service",
                     "MemoryDenyWriteExecute=yes", "KillSignal=SIGTERM"] {
            #expect(settings.contains(line), "missing \(line)")
        }
    }

    @Test func theUnitsCommandLineWithTheExampleSettingsIsOneReclawRuns() async throws {
        let unit = try DeployFiles.text("deploy/systemd/reclaw.service")
        let example = try DeployFiles.text("deploy/systemd/reclaw.env.example")
        // The settings as systemd reads them: KEY=VALUE lines of the environment file.
        var settings: [String: String] = [:]
        for line in example.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { settings[String(parts[0])] = String(parts[1]) }
        }
        let execStart = unit.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").first { $0.hasPrefix("ExecStart=") }
        var words = try #require(execStart).dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
        #expect(words.first == "/usr/local/bin/reclaw")

        // Run it for one pass against the emulator, on a local specs folder instead of the example's
        // repository, with the credentials directory (%d) systemd would make.
        let pass = OnePass()
        settings["RECLAW_SOURCE"] = pass.source
        for (i, word) in words.enumerated() {
            var w = word.replacingOccurrences(of: "%d", with: pass.secrets)
            for (k, v) in settings { w = w.replacingOccurrences(of: "${\(k)}", with: v) }
            #expect(!w.contains("${"), "\(w) is not set in reclaw.env.example")
            words[i] = w
        }
        // The environment file is the process's environment too (RECLAW_PERMISSIONS_BOUNDARY is read from it).
        let r = try await pass.run(Array(words.dropFirst()), environment: settings.filter { $0.key.hasPrefix("RECLAW_") })
        #expect(r.status == 2, "\(r.stderr.suffix(3000))")
        #expect(r.stderr.contains("\"message\":\"applied\""), "the unit asks for JSON logs: \(r.stderr.suffix(500))")
        #expect(!r.stderr.contains("no --permissions-boundary"), "the example sets no boundary")
    }
}
