import Foundation
import ReclawTestSupport
import Testing

/// The Containerfile cannot be built here (no container engine), so its two promises are checked
/// against this build: the build stage installs the -dev packages and links Swift statically, and
/// the runtime installs the package of every shared library the binary needs outside Swift's own.
@Suite struct ContainerfileTests {
    let text: String
    let stages: [String]

    init() throws {
        text = try DeployFiles.text("Containerfile")
        stages = Array(text.components(separatedBy: "\nFROM ").dropFirst())
    }

    func packages(_ stage: String) -> Set<String> {
        let install = stage.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").flatMap { line -> [String] in
            guard let range = line.range(of: "apt-get install") else { return [] }
            return line[range.upperBound...].split(separator: "&&")[0].split(separator: " ").map(String.init).filter { !$0.hasPrefix("-") }
        }
        return Set(install)
    }

    @Test func theBuildStageHasTheThreeLibrariesAndLinksSwiftStatically() throws {
        #expect(stages.count == 2)
        let build = try #require(stages.first)
        #expect(packages(build).isSuperset(of: ["libgit2-dev", "libcurl4-openssl-dev", "libyaml-dev"]))
        #expect(build.contains("swift build -c release --static-swift-stdlib --product reclaw"))
    }

    @Test func theRuntimeHasThePackageOfEverySystemLibraryTheBinaryLinks() async throws {
        let runtime = try #require(stages.last)
        #expect(runtime.hasPrefix("docker.io/library/debian:bookworm-slim"))
        let installed = packages(runtime)
        let needed = try await Command.check(["readelf", "-d", RepoPaths.reclawBinary]).split(separator: "\n").compactMap { line -> String? in
            guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        #expect(needed.contains("libgit2.so.1.5") && needed.contains("libcurl.so.4") && needed.contains("libyaml-0.so.2"))
        // Every library outside the Swift toolchain (linked statically in the image) and the C
        // library itself (in every Debian image) must come from a package the runtime installs.
        let essential: Set<String> = ["libc6", "libgcc-s1"]
        for library in needed {
            let path = try await Command.run(["sh", "-c", "ldconfig -p | awk -v l=\(library) '$1 == l { print $NF; exit }'"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !path.isEmpty else { continue }  // a Swift runtime library, not from the system
            let owner = try await Command.check(["sh", "-c", "(dpkg -S \(path) || dpkg -S \"$(readlink -f \(path))\") 2>/dev/null | head -1 | cut -d: -f1"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(installed.contains(owner) || essential.contains(owner), "\(library) comes from \(owner), which the runtime stage does not install")
        }
    }

    @Test func theImageRunsAsAnUnprivilegedUserWithStateOnAVolume() throws {
        let runtime = try #require(stages.last)
        #expect(runtime.contains("USER 10001:10001"))
        #expect(runtime.contains("VOLUME [\"/var/lib/reclaw\"]"))
        #expect(runtime.contains("ENV RECLAW_STATE_DIR=/var/lib/reclaw"))
        #expect(runtime.contains("ENTRYPOINT [\"/usr/local/bin/reclaw\"]"))
    }
}
