import Foundation
import ReclawTestSupport
import Testing

/// The sizes that keep each module and each file small enough to hold in one's head: the daemon
/// module keeps only the service that wires the others, and no source file grows past 300 lines.
@Suite struct SourceSizeTests {
    /// Lines as `wc -l` counts them, plus an unterminated last one.
    static func lineCount(_ text: String) -> Int {
        let newlines = text.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        return newlines + (text.isEmpty || text.hasSuffix("\n") ? 0 : 1)
    }

    static func lines(under directory: String) throws -> [(path: String, lines: Int)] {
        let root = RepoPaths.path("")
        return try PackageManifest.swiftFiles(under: RepoPaths.path(directory)).sorted().map { file in
            (String(file.dropFirst(root.count)), lineCount(try String(contentsOfFile: file, encoding: .utf8)))
        }
    }

    @Test("ReclawDaemon has fewer than 1,500 lines")
    func theDaemonModuleStaysSmall() throws {
        let files = try Self.lines(under: "Sources/ReclawDaemon")
        #expect(!files.isEmpty)
        let total = files.reduce(0) { $0 + $1.lines }
        #expect(total < 1500, "Sources/ReclawDaemon has \(total) lines: move what is not the wiring service to the module of its job")
    }

    @Test("no Swift file in Sources has 300 lines or more")
    func everySourceFileStaysSmall() throws {
        let files = try Self.lines(under: "Sources")
        #expect(files.count > 100)
        let offenders = files.filter { $0.lines >= 300 }.map { "\($0.path) (\($0.lines) lines)" }
        #expect(offenders == [], "split these by job: \(offenders.joined(separator: ", "))")
    }

    @Test("lines are counted as wc -l counts them")
    func linesAreCountedLikeWC() {
        #expect(Self.lineCount("") == 0)
        #expect(Self.lineCount("a\nb\n") == 2)
        #expect(Self.lineCount("a\nb") == 2)
    }
}
