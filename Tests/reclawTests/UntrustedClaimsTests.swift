import Foundation
import ReclawTestSupport
import Testing

/// Claims reclaw must not take at their word, driven through the real binary: a spec file's shape
/// (a deployment wrapped in a list), links planted in the state directory, and a tag count that
/// AWS would refuse after everything else was created.
@Suite struct UntrustedClaimsTests {
    let reclaw = RepoPaths.reclawBinary
    let emulator = Emulator.shared
    let region = "eu-north-1"

    func listWrapped(_ name: String) -> String {
        "- " + minimalSpec(name, region: region).split(separator: "\n").joined(separator: "\n  ") + "\n"
    }

    func itemsWrapped(_ name: String) -> String {
        "apiVersion: v1\nkind: List\nitems:\n  - " + minimalSpec(name, region: region).split(separator: "\n").joined(separator: "\n    ") + "\n"
    }

    func mode(_ path: String) throws -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        return Int(info.st_mode & 0o777)
    }

    @Test func validateRefusesADeploymentWrappedInAListOrAListsItemsAtItsFileLineAndColumn() throws {
        let dir = TemporaryDirectory()
        dir.write("specs/list.yaml", listWrapped("alpha"))
        dir.write("specs/items.yaml", itemsWrapped("beta"))
        let r = try Command.run([reclaw, "validate", "specs"], directory: dir.path)
        #expect(r.status == 1, "\(r.stdout)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("specs/list.yaml:1:3: error: a reclaw deployment 'alpha' is hidden at [0] ") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("specs/items.yaml:4:5: error: a reclaw deployment 'beta' is hidden at items[0] ") }, "\(r.stdout)")
        #expect(lines.last == "2 files checked: 0 valid deployments, 2 invalid deployments, 2 unreadable files; 2 errors, 0 warnings.", "\(r.stdout)")
    }

    @Test func aDeploymentWrappedInAListInTheGitSourceIsAnErrorAndNothingIsPruned() async throws {
        let upstream = try Upstream()
        let state = TemporaryDirectory("reclaw-claims")
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = state.file("state")
        let kept = uniqueName("kept"), wrapped = uniqueName("wrapped")
        try upstream.commit(["kept.yaml": minimalSpec(kept, region: region), "wrapped.yaml": minimalSpec(wrapped, region: region)])
        let first = try await Command.run([reclaw, "run", "--once", "--prune", "--source", upstream.url], environment: env)
        #expect(first.status == 2, "\(first.stderr.suffix(3000))")
        let before = try await emulator.resourceCounts(wrapped, region: region)
        #expect(!before.isEmpty)

        try upstream.commit(["wrapped.yaml": listWrapped(wrapped)])
        let second = try await Command.run([reclaw, "run", "--once", "--prune", "--source", upstream.url], environment: env)
        #expect(second.status == 1, "a hidden spec was not an error: \(second.stderr.suffix(3000))")
        #expect(second.stderr.contains("wrapped.yaml:1:3: error: a reclaw deployment '\(wrapped)' is hidden at [0]"), "\(second.stderr.suffix(3000))")
        #expect(try await emulator.resourceCounts(wrapped, region: region) == before, "the deployment of a list-wrapped spec was pruned")

        // Everything reclaw made on the way is private to its user.
        let s = state.file("state")
        #expect(try mode(s) == 0o700)
        #expect(try mode(s + "/git") == 0o700)
        #expect(try mode(s + "/deployments") == 0o700)
        #expect(try mode(s + "/deployments/\(kept).json") == 0o600)
        #expect(try mode(s + "/reclaw.lock") == 0o600)
        #expect(try mode(s + "/audit.log") == 0o600)
    }

    /// A state directory with a link planted at `name`, pointing at a victim file.
    func planted(_ name: String, victim contents: String) -> (TemporaryDirectory, state: String, victim: String, env: [String: String]) {
        let dir = TemporaryDirectory("reclaw-links")
        let victim = dir.write("victim.txt", contents)
        let state = dir.file("state")
        try? FileManager.default.createDirectory(atPath: (state + "/" + name as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: state + "/" + name, withDestinationPath: victim)
        dir.write("specs/other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = state
        return (dir, state, victim, env)
    }

    @Test(arguments: ["reclaw.lock", "audit.log"])
    func aLinkPlantedInTheStateDirectoryIsRefusedByNameAndItsTargetIsUntouched(name: String) async throws {
        let precious = "precious data\n"
        let (dir, state, victim, env) = planted(name, victim: precious)
        let r = try await Command.run([reclaw, "run", "--once", "--source", dir.file("specs")], environment: env)
        #expect(r.status == 1, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("\(state)/\(name) is a symbolic link"), "\(r.stderr.suffix(2000))")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == precious)
        withExtendedLifetime(dir) {}
    }

    @Test func aStatusFileThatIsALinkIsUnreadableByNameAndNeverRead() async throws {
        let name = uniqueName("linked")
        let forged = "{\"deployment\": \"\(name)\", \"conditions\": []}"
        let (dir, state, victim, env) = planted("deployments/\(name).json", victim: forged)
        let r = try await Command.run([reclaw, "status"], environment: env)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect((r.stdout + r.stderr).contains("\(state)/deployments/\(name).json is a symbolic link"), "\(r.stdout)\(r.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == forged)
        withExtendedLifetime(dir) {}
    }

    @Test func validateCountsEveryTagReclawAddsAndChecksReservedPrefixesOnTheTrimmedKey() throws {
        let dir = TemporaryDirectory()
        let tags = { (n: Int) in "  tags:\n" + (1...n).map { "    k\($0): v" }.joined(separator: "\n") }
        dir.write("fits.yaml", minimalSpec("fits", region: region, extra: tags(45)))
        dir.write("over/over.yaml", minimalSpec("over", region: region, extra: tags(46)))
        dir.write("spaced/spaced.yaml", minimalSpec("spaced", region: region, extra: "  tags: {' reclaw:deployment': x}"))
        let fits = try Command.run([reclaw, "validate", "fits.yaml"], directory: dir.path)
        #expect(fits.status == 0, "\(fits.stdout)")
        let over = try Command.run([reclaw, "validate", "over"], directory: dir.path)
        #expect(over.status == 1)
        #expect(over.stdout.hasPrefix("over/over.yaml:8:5: error: spec.tags has 46 entries; at most 45 are allowed"), "\(over.stdout)")
        let spaced = try Command.run([reclaw, "validate", "spaced"], directory: dir.path)
        #expect(spaced.status == 1)
        #expect(spaced.stdout.hasPrefix("spaced/spaced.yaml:7:10: error: tag key ' reclaw:deployment': the reclaw: prefix is reserved"), "\(spaced.stdout)")
    }
}
