import Foundation
import ReclawDaemon
import ReclawOperations
import Testing

/// What a burst of work freed goes back to the system, not only to malloc's free lists.
@Suite struct FreeMemoryTests {
    /// Resident anonymous memory of this process, in bytes (from /proc).
    static func residentAnonymous() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") })
        let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kib * 1024
    }

    @Test func memoryFreedAfterABurstIsHandedBackToTheSystem() throws {
        // 64 MiB in blocks small enough to come from malloc's heap (not their own mappings),
        // touched so they are resident, then freed but for the last, which pins the heap's top
        // so malloc's own trimming of the top cannot hand it back.
        let block = 16 << 10
        let blocks = (0..<4096).map { _ -> UnsafeMutableRawPointer in
            let p = malloc(block)!
            memset(p, 0xA5, block)
            return p
        }
        for p in blocks.dropLast() { free(p) }
        defer { free(blocks.last!) }
        let before = try Self.residentAnonymous()
        #expect(FreeMemory.release())
        let after = try Self.residentAnonymous()
        #expect(before - after > 32 << 20, "resident anonymous memory went from \(before >> 20) MiB to \(after >> 20) MiB")
    }

    @Test func mallocKeepsTwoArenasUnlessTheOperatorChoseANumber() {
        #expect(FreeMemory.limitArenas(environment: [:]) == .limited(to: FreeMemory.arenas))
        #expect(FreeMemory.limitArenas(environment: ["MALLOC_ARENA_MAX": "8"]) == .leftToEnvironment("8"))
        #expect("\(FreeMemory.limitArenas(environment: ["MALLOC_ARENA_MAX": "8"]))" == "MALLOC_ARENA_MAX=8")
    }
}
