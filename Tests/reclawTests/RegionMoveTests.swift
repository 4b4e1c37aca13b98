import Foundation
import ReclawTestSupport
import Testing

/// A change of `spec.region` replaces every regional resource: blocked without allowReplace, and
/// with it the old region is emptied once the new one is Ready, the IAM role and instance profile
/// kept for the new region. Driven through the real binary against the emulator.
@Suite struct RegionMoveTests {
    let emulator = Emulator.shared
    static let regional: Set<String> = ["vpc", "igw", "public-subnet", "private-subnet", "public-rt", "private-rt", "instance-sg", "endpoint-sg", "instance"]

    struct Workspace {
        let dir = TemporaryDirectory("reclaw-move")
        let name = uniqueName("mover")
        var env: [String: String]
        var specs: String { dir.file("specs") }

        init(emulator: Emulator) {
            env = emulator.environment
            env["RECLAW_STATE_DIR"] = dir.file("state")
        }

        func write(region: String, allowReplace: Bool = false) {
            dir.write("specs/app.yaml", minimalSpec(name, region: region, extra: allowReplace ? "  policy: {allowReplace: true}" : ""))
        }

        func reclaw(_ args: String...) async throws -> CommandResult {
            try await Command.run([RepoPaths.reclawBinary] + args, environment: env)
        }
    }

    func regional(_ w: Workspace, _ region: String) async throws -> Int {
        try await emulator.resourceCounts(w.name, region: region).filter { Self.regional.contains($0.key) }.values.reduce(0, +)
    }

    @Test func aRegionChangeIsBlockedWithoutAllowReplaceAndWithItTheOldRegionIsEmptiedOnceTheNewIsReady() async throws {
        var w = Workspace(emulator: emulator)
        let (old, new) = ("eu-west-1", "eu-north-1")
        w.write(region: old)
        #expect(try await w.reclaw("apply", "--auto-approve", w.specs).status == 0)
        let before = try await regional(w, old)

        w.write(region: new)
        let blocked = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(blocked.status == 1, "a region change was applied without allowReplace: \(blocked.stdout)")
        #expect(blocked.stdout.contains("spec.region changed from \(old) to \(new)"), "\(blocked.stdout)")
        #expect(try await regional(w, new) == 0, "resources were made in the new region")
        #expect(try await regional(w, old) == before, "the old region was touched")
        #expect(try await w.reclaw("status").stdout.contains("\(w.name) (\(old))"))

        w.write(region: new, allowReplace: true)
        let moved = try await w.reclaw("apply", "--auto-approve", w.specs)
        #expect(moved.status == 0, "\(moved.stdout)\n\(moved.stderr)")
        #expect(try await regional(w, new) == before)
        #expect(try await regional(w, old) == 0, "the old region's resources were left running")
        let counts = try await emulator.resourceCounts(w.name, region: new)
        #expect(counts["role"] == 1 && counts["instance-profile"] == 1, "the IAM role the new region uses was deleted: \(counts)")
        let status = try await w.reclaw("status", "--json")
        #expect(status.stdout.contains("\"regions\" : [\n      \"\(new)\"\n    ]"), "\(status.stdout)")
        #expect(!status.stdout.contains("\"reason\" : \"Applying\""), "the move is over but Reconciling still says Applying: \(status.stdout)")
        // Later reconciles plan the new region alone: nothing left to move.
        #expect(try await w.reclaw("plan", "--detailed-exitcode", w.specs).status == 0)
    }

    @Test func destroyingTheRegionLeftBehindKeepsTheRoleAndProfileTheNewRegionUses() async throws {
        var w = Workspace(emulator: emulator)
        let (old, new) = ("ap-northeast-2", "ap-southeast-1")
        w.write(region: old)
        #expect(try await w.reclaw("apply", "--auto-approve", w.specs).status == 0)
        // The old region cannot be emptied for now: the move converges in the new region, the old
        // one stays recorded.
        let fault = try await emulator.injectError(region: old, operation: "DeleteVpc", code: "UnauthorizedOperation", status: 403, count: nil)
        w.write(region: new, allowReplace: true)
        let moved = try await w.reclaw("apply", "--auto-approve", w.specs)
        try await emulator.removeFault(fault)
        #expect(moved.status == 1, "\(moved.stdout)")
        #expect(try await w.reclaw("status").stdout.contains("Resources also in: \(old)"))
        #expect(try await regional(w, new) > 0)

        let destroyOld = try await w.reclaw("destroy", "--deployment", w.name, "--region", old, "--auto-approve")
        #expect(destroyOld.status == 0, "\(destroyOld.stdout)\n\(destroyOld.stderr)")
        #expect(destroyOld.stdout.contains("The IAM role and instance profile stay: the deployment's resources in \(new) use them."))
        #expect(try await regional(w, old) == 0)
        let counts = try await emulator.resourceCounts(w.name, region: new)
        #expect(counts["role"] == 1 && counts["instance-profile"] == 1, "\(counts)")
        #expect(!(try await w.reclaw("status").stdout.contains("Resources also in")))

        let destroyAll = try await w.reclaw("destroy", "--deployment", w.name, "--auto-approve")
        #expect(destroyAll.status == 0, "\(destroyAll.stdout)\n\(destroyAll.stderr)")
        #expect(try await emulator.resourceCounts(w.name, region: new).isEmpty)
        #expect(try await w.reclaw("status").stdout.contains("No deployments"))
    }
}
