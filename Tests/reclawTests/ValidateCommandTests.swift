import Foundation
import Testing
import ReclawTestSupport

@Suite struct ValidateCommandTests {
    let reclaw = RepoPaths.reclawBinary

    @Test func validExamplesPassWithASummary() throws {
        let r = try Command.run([reclaw, "validate", "examples/openclaw-seed.yaml", "examples/multi-team"], directory: RepoPaths.root)
        #expect(r.status == 0)
        #expect(r.stdout == "4 files checked: 4 valid deployments, 0 invalid deployments; 0 errors, 0 warnings.\n")
    }

    @Test func invalidExamplesAreReportedAsPathLineColumnAndExitOne() throws {
        let r = try Command.run([reclaw, "validate", "examples/invalid"], directory: RepoPaths.root)
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.contains("examples/invalid/duplicate-key.yaml:9:3: error: duplicate key 'region' in spec (first at 8:3)"))
        #expect(lines.contains { $0.hasPrefix("examples/invalid/instance.yaml:28:14: warning: ") })
        #expect(lines.contains("examples/invalid/empty.yaml:1:1: error: the file is empty: it holds no YAML document"))
        let summary = try #require(lines.last)
        #expect(summary.hasPrefix("16 files checked: 0 valid deployments, "))
        #expect(summary.contains(" errors, 1 warning."))
        // Every diagnostic line points at a place.
        for line in lines.dropLast() {
            #expect(line.range(of: #"^examples/invalid/[a-z0-9-]+\.yaml:\d+:\d+: (error|warning): "#, options: .regularExpression) != nil, "\(line)")
        }
    }

    @Test func jsonOutputCarriesTheSameDiagnostics() throws {
        let r = try Command.run([reclaw, "validate", "--json", "examples/invalid/duplicate-key.yaml", "examples/openclaw-seed.yaml"], directory: RepoPaths.root)
        #expect(r.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["deployments"] as? [String] == ["openclaw"])
        #expect(json["invalidDeployments"] as? [String] == ["dup-keys"])
        #expect(json["errors"] as? Int == 1)
        let d = try #require((json["diagnostics"] as? [[String: Any]])?.first)
        #expect(d["line"] as? Int == 9 && d["column"] as? Int == 3 && d["code"] as? String == "duplicate-key")
    }

    @Test func theDefaultPathIsTheCurrentDirectory() throws {
        let dir = TemporaryDirectory()
        dir.write("team/a.yml", "apiVersion: reclaw.dev/v1alpha1\nkind: OpenClawDeployment\nmetadata: {name: here}\nspec: {region: us-east-1, openclaw: {version: '1.0'}}\n")
        dir.write(".hidden/b.yaml", "not: [valid\n")
        let r = try Command.run([reclaw, "validate"], directory: dir.path)
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("1 file checked: 1 valid deployment,"))
    }

    @Test func aMissingPathIsAnError() throws {
        let r = try Command.run([reclaw, "validate", "no/such/dir"], directory: RepoPaths.root)
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix("no/such/dir: error: no such file or directory\n"), "\(r.stdout)")
        #expect(!r.stdout.contains(":1:1"))
    }

    @Test func debugLogsNameSkippedDocumentsInJSONLogLines() throws {
        let r = try Command.run([reclaw, "validate", "--log-level", "debug", "--log-format", "json", "examples/multi-team"], directory: RepoPaths.root)
        #expect(r.status == 0)
        let line = try #require(r.stderr.split(separator: "\n").first)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(log["level"] as? String == "debug")
        #expect(log["message"] as? String == "skipped a document")
        #expect(log["reason"] as? String == "kind ConfigMap")
        let quiet = try Command.run([reclaw, "validate", "examples/multi-team"], directory: RepoPaths.root)
        #expect(quiet.stderr.isEmpty)
    }

    @Test func theSchemaIsJSONSchema() throws {
        let out = try Command.check([reclaw, "schema"])
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(schema["$schema"] as? String == "http://json-schema.org/draft-07/schema#")
        // It judges reclaw's documents only: a conditional, with the deployment's schema as `then`.
        #expect((schema["then"] as? [String: Any])?["$ref"] as? String == "#/definitions/OpenClawDeployment")
        let deployment = (schema["definitions"] as? [String: Any])?["OpenClawDeployment"] as? [String: Any]
        #expect((deployment?["required"] as? [String]) == ["apiVersion", "kind", "metadata", "spec"])
    }

    @Test func hostileFilesAreJudgedQuicklyWithBoundedMemory() throws {
        let dir = TemporaryDirectory()
        var bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...12 { bomb += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ",") + "]\n" }
        dir.write("bomb.yaml", bomb)
        dir.write("deep.yaml", String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        dir.write("big.yaml", "a: " + String(repeating: "x", count: 2 << 20))
        FileManager.default.createFile(atPath: dir.file("binary.yaml"), contents: Data((0..<4096).map { UInt8($0 % 256) }))
        FileManager.default.createFile(atPath: dir.file("latin1.yaml"), contents: Data([0x61, 0x3A, 0x20, 0xE9, 0x0A]))
        dir.write("tabs.yaml", "spec:\n\tregion: x\n")
        dir.write("empty.yaml", "")
        // A Python parent runs reclaw alone, so its children's peak RSS is reclaw's own.
        let measure = """
        import resource, subprocess, sys, time
        t = time.monotonic()
        r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
        print(r.returncode, round(time.monotonic() - t, 3), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        print(r.stdout, end="")
        """
        for name in ["bomb", "deep", "big", "binary", "latin1", "tabs", "empty"] {
            let out = try Command.check(["python3", "-c", measure, reclaw, "validate", dir.file(name + ".yaml")])
            let figures = out.split(separator: "\n")[0].split(separator: " ")
            #expect(figures[0] == "1", "\(name): \(out)")
            #expect(Int(figures[2])! < 100 * 1024, "\(name) peaked at \(figures[2]) KiB")
            #expect(out.contains(": error: "), "\(name): \(out)")
        }
    }
}
