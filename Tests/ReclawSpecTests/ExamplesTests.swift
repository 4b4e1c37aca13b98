import Foundation
import Testing
import ReclawSpec

/// Every file in examples/invalid carries `# expect:` lines; the loader must report exactly those.
@Suite struct ExamplesTests {
    struct Expectation: Hashable, CustomStringConvertible {
        var line: Int, column: Int, severity: String, text: String
        var description: String { "\(line):\(column) \(severity): \(text)" }
    }

    static let invalidFiles: [String] = {
        let dir = repoRoot + "/examples/invalid"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    static func expectations(in text: String) -> [Expectation] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("# expect: ") else { return nil }
            let rest = line.dropFirst("# expect: ".count)
            let parts = rest.split(separator: " ", maxSplits: 2)
            let position = parts[0].split(separator: ":")
            return Expectation(line: Int(position[0])!, column: Int(position[1])!,
                               severity: String(parts[1].dropLast()), text: String(parts[2]))
        }
    }

    @Test(arguments: invalidFiles)
    func eachInvalidExampleReportsExactlyItsExpectedDiagnostics(file: String) throws {
        let path = "examples/invalid/" + file
        let text = try String(contentsOfFile: repoRoot + "/" + path, encoding: .utf8)
        var files = [SpecFile(path: path, text: text)]
        for line in text.split(separator: "\n") where line.hasPrefix("# expect-with: ") {
            let other = "examples/invalid/" + line.dropFirst("# expect-with: ".count)
            files.append(SpecFile(path: other, text: try String(contentsOfFile: repoRoot + "/" + other, encoding: .utf8)))
        }
        var expected = Self.expectations(in: text)
        if file == "empty.yaml" {
            expected = [Expectation(line: 1, column: 1, severity: "error", text: "the file is empty")]
        }
        if file == "duplicate-name-1.yaml" { expected = [] }
        let result = SpecLoader().load(files)
        let actual = result.diagnostics.filter { $0.file == path }
        #expect(actual.count == expected.count, "got: \(actual)")
        for e in expected {
            let match = actual.first { $0.line == e.line && $0.column == e.column && $0.severity.rawValue == e.severity && $0.message.hasPrefix(e.text) }
            #expect(match != nil, "expected \(e) in \(path); got \(actual)")
        }
    }

    @Test func theSeedExampleHoldsExactlyReclawsDefaults() throws {
        let result = SpecLoader().load(try SpecTree.read(directory: repoRoot + "/examples/openclaw-seed.yaml"))
        #expect(result.diagnostics.isEmpty)
        let spec = try #require(result.deployments.first?.spec)
        let minimal = load(document(name: "openclaw")).deployments.first?.spec
        #expect(spec == minimal)
        #expect(spec.network.availabilityZone == "us-east-1a")
        #expect(spec.instance.image.contains("/arm64/"))
    }

    @Test func theMultiTeamRepositoryHasThreeDeploymentsInThreeRegions() throws {
        let result = SpecLoader().load(try SpecTree.read(directory: repoRoot + "/examples/multi-team"))
        #expect(result.diagnostics.isEmpty)
        #expect(result.deployments.map(\.spec.name) == ["platform", "research", "support"])
        #expect(Set(result.deployments.map(\.spec.region)).count == 3)
        #expect(Set(result.deployments.map(\.spec.network.vpcCidr)).count == 3)
        #expect(Set(result.deployments.map(\.spec.openclaw.model)).count == 3)
        #expect(Set(result.deployments.map(\.spec.instance.type)).count == 3)
        let support = try #require(result.deployments.first { $0.spec.name == "support" }?.spec)
        #expect(support.instance.image.contains("/amd64/"))
        #expect(support.policy.drift == .alert)
        #expect(support.network.availabilityZone == "eu-west-1a")
        #expect(result.skipped.map(\.reason) == ["kind ConfigMap"])
    }
}
