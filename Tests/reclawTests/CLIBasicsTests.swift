import Foundation
import Testing
import ReclawTestSupport

@Suite struct CLIBasicsTests {
    @Test func versionNamesReclawAndTheLinkedLibraries() throws {
        let out = try Command.check([RepoPaths.reclawBinary, "--version"])
        #expect(out.hasPrefix("reclaw 0.1.0"))
        #expect(out.contains("libgit2 1."))
        #expect(out.contains("libcurl/"))
    }

    @Test func helpDescribesTheCommand() throws {
        let out = try Command.check([RepoPaths.reclawBinary, "--help"])
        #expect(out.contains("USAGE: reclaw"))
        #expect(out.contains("git repository of YAML"))
    }

    @Test func theBinaryLinksTheSystemsLibgit2LibcurlAndLibyaml() throws {
        let out = try Command.check(["ldd", RepoPaths.reclawBinary])
        for library in ["libgit2.so", "libcurl.so", "libyaml-0.so"] {
            let line = try #require(out.split(separator: "\n").first { $0.contains(library) })
            #expect(line.contains("=> /lib/") || line.contains("=> /usr/lib/"))
        }
    }

    @Test func anUnknownOptionIsAUsageError() throws {
        let r = try Command.run([RepoPaths.reclawBinary, "--no-such-option"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("no-such-option"))
    }

    @Test func withoutCredentialsEachDeploymentSaysSoOnceAndTheSameWayWhetherOrNotTheMetadataServiceAnswers() async throws {
        let dir = TemporaryDirectory("reclaw-nocreds")
        dir.write("specs/a.yaml", minimalSpec("alpha", region: "us-east-1"))
        dir.write("specs/b.yaml", minimalSpec("beta", region: "us-east-1"))
        let answering = try EchoServer()
        var outputs: [String] = []
        for imds in [["AWS_EC2_METADATA_DISABLED": "true"], ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"],
                     ["AWS_EC2_METADATA_SERVICE_ENDPOINT": answering.url + "/status/404"]] {
            let env = ["PATH": "/usr/bin:/bin", "HOME": dir.path, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                       "RECLAW_STATE_DIR": dir.file("state")].merging(imds) { $1 }
            let r = try await Command.run([RepoPaths.reclawBinary, "plan", dir.file("specs")], environment: env)
            #expect(r.status == 1)
            let errors = r.stderr.split(separator: "\n").filter { $0.contains("no AWS credentials found") }
            #expect(errors.count == 2, "\(r.stderr)")
            #expect(errors.contains { $0.hasPrefix("error: cannot plan alpha: ") } && errors.contains { $0.hasPrefix("error: cannot plan beta: ") })
            outputs.append(errors.joined(separator: "\n"))
        }
        #expect(Set(outputs).count == 1, "\(outputs)")
    }
}
