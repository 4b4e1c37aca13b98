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
}
