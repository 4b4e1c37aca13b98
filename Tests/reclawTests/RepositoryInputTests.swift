import Foundation
import ReclawTestSupport
import Testing

/// The repository is untrusted input: what the binary does with typos, links, hostile names,
/// policies the operator does not allow, remotes that never answer and files too big to read.
@Suite struct RepositoryInputTests {
    let reclaw = RepoPaths.reclawBinary

    func spec(_ name: String, kind: String = "OpenClawDeployment", apiVersion: String = "reclaw.dev/v1alpha1", iam: String = "") -> String {
        """
        apiVersion: \(apiVersion)
        kind: \(kind)
        metadata:
          name: \(name)
        spec:
          region: us-east-1
          openclaw: {version: "2026.2.3"}
        \(iam)
        """
    }

    @Test func aMisspelledKindOrAnotherReclawVersionIsAnErrorWhileForeignYAMLIsSkipped() throws {
        let dir = TemporaryDirectory()
        dir.write("specs/kind.yaml", spec("alpha", kind: "OpenclawDeployment"))
        dir.write("specs/case.yaml", spec("beta", kind: "openclawdeployment"))
        dir.write("specs/version.yaml", spec("gamma", apiVersion: "reclaw.dev/v1alpha2"))
        dir.write("specs/group.yaml", spec("delta", kind: "Deployment", apiVersion: "reclaw.io/v1alpha1"))
        dir.write("specs/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n")
        let r = try Command.run([reclaw, "validate", "specs"], directory: dir.path)
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("specs/kind.yaml:2:7: error: kind 'OpenclawDeployment' is not a kind reclaw knows; did you mean 'OpenClawDeployment'?"), "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("specs/case.yaml:2:7: error: kind 'openclawdeployment' is not a kind reclaw knows") })
        #expect(lines.contains { $0.hasPrefix("specs/version.yaml:1:13: error: apiVersion 'reclaw.dev/v1alpha2' is not supported by this reclaw") })
        #expect(lines.contains { $0.hasPrefix("specs/group.yaml:2:7: error: kind 'Deployment' is not one of reclaw.dev's kinds") })
        #expect(!r.stdout.contains("configmap.yaml"))
        #expect(lines.last == "5 files checked: 0 valid deployments, 0 invalid deployments, 4 unreadable files; 4 errors, 0 warnings.")

        let foreign = try Command.run([reclaw, "validate", "specs/configmap.yaml"], directory: dir.path)
        #expect(foreign.status == 0, "\(foreign.stdout)")
    }

    @Test func validateNeverFollowsALinkOutOfTheRepository() throws {
        let outside = TemporaryDirectory("reclaw-outside")
        outside.write("prod.yaml", spec("prod"))
        outside.write("team/inner.yaml", spec("inner"))
        let dir = TemporaryDirectory()
        dir.write("repo/app.yaml", spec("app"))
        try FileManager.default.createSymbolicLink(atPath: dir.file("repo/prod.yaml"), withDestinationPath: outside.file("prod.yaml"))
        try FileManager.default.createSymbolicLink(atPath: dir.file("repo/team"), withDestinationPath: outside.file("team"))
        try Command.check(["mkfifo", dir.file("repo/pipe.yaml")])
        let r = try Command.run([reclaw, "validate", "--json", "repo"], directory: dir.path)
        #expect(r.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["deployments"] as? [String] == ["app"])
        #expect(json["unreadableFiles"] as? [String: String] == [
            "repo/prod.yaml": "is a symbolic link; reclaw reads regular files only",
            "repo/pipe.yaml": "is a FIFO, not a regular file; reclaw reads regular files only",
        ])
        let diagnostic = try #require((json["diagnostics"] as? [[String: Any]])?.first)
        #expect(diagnostic["line"] is NSNull && diagnostic["file"] as? String == "repo/pipe.yaml")

        let text = try Command.run([reclaw, "validate", "repo"], directory: dir.path)
        #expect(text.stdout.contains("repo/prod.yaml: error: is a symbolic link; reclaw reads regular files only\n"))
        let linkedRoot = try Command.run([reclaw, "validate", "repo/team"], directory: dir.path)
        #expect(linkedRoot.status == 1 && linkedRoot.stdout.hasPrefix("repo/team: error: is a symbolic link"), "\(linkedRoot.stdout)")
    }

    @Test func aManagedPolicyOutsideTheOperatorsListIsAnErrorAtItsPlace() throws {
        let dir = TemporaryDirectory()
        dir.write("admin.yaml", spec("admin", iam: "  iam:\n    managedPolicies: [AmazonSSMManagedInstanceCore, AdministratorAccess]"))
        let refused = try Command.run([reclaw, "validate", "admin.yaml"], directory: dir.path)
        #expect(refused.status == 1)
        #expect(refused.stdout.hasPrefix(
            "admin.yaml:9:53: error: spec.iam.managedPolicies: 'AdministratorAccess' is not allowed by the operator (allowed: AmazonSSMManagedInstanceCore, CloudWatchAgentServerPolicy; see --allowed-managed-policy)"),
                "\(refused.stdout)")

        let allowed = try Command.run([reclaw, "validate", "--allowed-managed-policy", "AmazonSSMManagedInstanceCore",
                                       "--allowed-managed-policy", "arn:aws:iam::aws:policy/AdministratorAccess", "admin.yaml"], directory: dir.path)
        #expect(allowed.status == 0, "\(allowed.stdout)")
        let fromEnvironment = try Command.run([reclaw, "validate", "admin.yaml"],
                                              environment: ["RECLAW_ALLOWED_MANAGED_POLICIES": "AmazonSSMManagedInstanceCore, AdministratorAccess"],
                                              directory: dir.path)
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stdout)")
        // The defaults of a spec that lists none must be allowed too.
        dir.write("defaults.yaml", spec("defaults"))
        let narrow = try Command.run([reclaw, "validate", "--allowed-managed-policy", "AmazonSSMManagedInstanceCore", "defaults.yaml"], directory: dir.path)
        #expect(narrow.status == 1 && narrow.stdout.contains("the default spec.iam.managedPolicies include CloudWatchAgentServerPolicy"), "\(narrow.stdout)")

        let usage = try Command.run([reclaw, "validate", "--allowed-managed-policy", "Admin Access!", "admin.yaml"], directory: dir.path)
        #expect(usage.status == 64 && usage.stderr.contains("is neither a managed policy name nor a policy ARN"), "\(usage.stderr)")
        for command in ["plan", "apply", "drift", "destroy", "run"] {
            let help = try Command.run([reclaw, command, "--help"])
            #expect(help.stdout.contains("--allowed-managed-policy") && help.stdout.contains("--fetch-timeout"), "\(command)")
        }
    }

    @Test func namesThatWouldForgeLogLinesOrLeaveTheStateDirectoryTouchNeither() throws {
        let dir = TemporaryDirectory()
        let forged = #""x\n2026-01-01T00:00:00.000Z error reclaw: forged \e[31mred""#
        dir.write("specs/a.yaml", spec(forged) + "\n---\n" + spec("../../../../elsewhere/pwned"))
        for format in ["text", "json"] {
            let r = try Command.run([reclaw, "run", "--once", "--source", dir.file("specs"), "--state-dir", dir.file("state/inner"),
                                     "--log-format", format], directory: dir.path)
            #expect(!r.stderr.contains("\u{1B}"), "a raw escape reached the log")
            let escaped = #"metadata.name 'x\n2026-01-01T00:00:00.000Z error reclaw: forged \u{1B}[31mred'"#
            var messages: [String] = []
            for line in r.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                if format == "json" {
                    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    #expect(object != nil, "not one JSON object: \(line)")
                    messages.append(object?["message"] as? String ?? "")
                } else {
                    #expect(line.range(of: #"^\d{4}-\d\d-\d\dT"#, options: .regularExpression) != nil || line.hasPrefix("  "), "a forged line: \(line)")
                    #expect(!line.hasPrefix("2026-01-01T00:00:00.000Z"), "a forged line: \(line)")
                    messages.append(String(line))
                }
            }
            #expect(messages.contains { $0.contains(escaped) }, "\(r.stderr)")
        }
        // Nothing was written in an invalid name's name, inside or outside the state directory.
        let everything = FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []
        #expect(!everything.contains { $0.contains("pwned") || $0.contains("\n") || $0.contains("elsewhere") }, "\(everything)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("elsewhere")))
    }

    @Test func aFileNameThatWouldForgeALogLineIsEscapedInLogValuesAndDiagnostics() throws {
        let dir = TemporaryDirectory()
        let name = "x\n2026-01-01T00:00:00.000Z error reclaw: forged \u{1B}[2J\u{9B}31m.yaml"
        dir.write("specs/" + name, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
        dir.write("specs/broken\r.yaml", "a: [\n")
        for format in ["text", "json"] {
            let r = try Command.run([reclaw, "validate", "--log-level", "debug", "--log-format", format, "specs"], directory: dir.path)
            #expect(r.status == 1)
            for output in [r.stderr, r.stdout] {
                #expect(!output.contains("\u{1B}") && !output.contains("\u{9B}") && !output.contains("\r"), "a raw control character: \(output)")
                for line in output.split(separator: "\n") {
                    #expect(!line.hasPrefix("2026-01-01T00:00:00.000Z") && !line.hasPrefix("m.yaml"), "a forged line: \(line)")
                }
            }
            if format == "text" {
                #expect(r.stderr.contains(#"file="specs/x\n2026-01-01T00:00:00.000Z error reclaw: forged \u{1B}[2J\u{9B}31m.yaml""#), "\(r.stderr)")
                #expect(r.stdout.contains(#"specs/broken\r.yaml:2:1: error: "#), "\(r.stdout)")
            } else {
                let log = try #require(try JSONSerialization.jsonObject(with: Data(r.stderr.split(separator: "\n")[0].utf8)) as? [String: Any])
                #expect(log["file"] as? String == "specs/" + name)
            }
        }
    }

    @Test func aRemoteThatNeverAnswersFailsRunOnceWithinTheFetchTimeout() async throws {
        let silent = try ServerProcess.stalling(.silent)
        defer { silent.stop() }
        let dir = TemporaryDirectory()
        // Without a deadline it would wait forever: the run ending, with the deadline named, is the check.
        let r = try await Command.run([reclaw, "run", "--once", "--source", "git://\(silent.url)/specs.git", "--fetch-timeout", "2s",
                                       "--state-dir", dir.file("state")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("timed out after 2 s"), "\(r.stderr)")
        let bad = try await Command.run([reclaw, "run", "--once", "--source", "git://\(silent.url)/specs.git", "--fetch-timeout", "soon"])
        #expect(bad.status == 64 && bad.stderr.contains("--fetch-timeout takes a duration"))
    }

    @Test func aBigFileInTheRepositoryIsNotReadOnEveryPass() async throws {
        // The issue: a 512 MiB non-YAML file cost a gigabyte on every pass. 64 MiB shows the same.
        func repository(big: Bool) throws -> Upstream {
            let upstream = try Upstream()
            try upstream.commit(["specs/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"], push: false)
            if big {
                FileManager.default.createFile(atPath: upstream.work + "/specs/data.bin", contents: Data(count: 64 << 20))
            }
            try upstream.commit([:])
            return upstream
        }
        let measure = """
        import resource, subprocess, sys
        r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        """
        func peakKiB(_ upstream: Upstream, state: String) async throws -> Int {
            let out = try await Command.check(["python3", "-c", measure, reclaw, "run", "--once", "--source", upstream.url, "--state-dir", state])
            let figures = out.split(separator: " ")
            #expect(figures.first == "0", "\(out)")
            return Int(figures.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .max
        }
        let dir = TemporaryDirectory()
        let small = try repository(big: false), large = try repository(big: true)
        _ = try await peakKiB(small, state: dir.file("small"))
        _ = try await peakKiB(large, state: dir.file("large"))  // the first pass fetches the blob
        let baseline = try await peakKiB(small, state: dir.file("small"))
        let pass = try await peakKiB(large, state: dir.file("large"))
        #expect(pass < baseline + 24 * 1024, "a pass over the repository with a 64 MiB file peaked at \(pass) KiB; without it, \(baseline) KiB")
    }
}
