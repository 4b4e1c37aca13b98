import Foundation
import Testing
import ReclawSpec

/// Each pathological input gets a clear error, never a crash or a hang (how long each takes is
/// bench/parser.py's figure).
@Suite struct HostileInputTests {
    func judge(_ bytes: [UInt8]) -> SpecLoadResult {
        SpecLoader().load([SpecFile(path: "hostile.yaml", bytes: bytes)])
    }

    static let cases: [(String, [UInt8], String)] = [
        ("alias bomb", Array(({
            var t = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            for i in 1...12 { t += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ",") + "]\n" }
            return t
        })().utf8), "yaml-aliasExpansionTooLarge"),
        ("deep flow nesting", Array((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8), "yaml-nestingTooDeep"),
        ("deep block nesting", Array((0..<1_000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n").utf8), "yaml-nestingTooDeep"),
        ("over one MiB", Array(("a: " + String(repeating: "x", count: 1 << 20)).utf8), "yaml-inputTooLarge"),
        ("binary", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + Array(repeating: 0, count: 4096), "yaml-binaryContent"),
        ("invalid UTF-8", Array("apiVersion: reclaw.dev/v1alpha1\nkind: \u{00}".utf8.dropLast()) + [0xC3, 0x28, 0x0A], "yaml-invalidEncoding"),
        ("tab indentation", Array("spec:\n\tregion: us-east-1\n".utf8), "yaml-tabIndentation"),
        ("empty", [], "empty-file"),
        ("only comments", Array("# nothing here\n\n".utf8), "empty-file"),
    ]

    @Test(arguments: 0..<cases.count)
    func eachPathologicalInputIsRefusedWithAClearError(index: Int) {
        let (name, bytes, code) = Self.cases[index]
        let result = judge(bytes)
        #expect(result.errors.count == 1, "\(name): \(result.diagnostics)")
        #expect(result.errors.first?.code == code, "\(name): \(result.diagnostics)")
        // A position where the problem has one; a file too large to parse is judged as a whole.
        if code == "yaml-inputTooLarge" {
            #expect(result.errors.first.map { !$0.hasPosition && $0.description.hasPrefix("hostile.yaml: error: ") } == true)
        } else {
            #expect(result.errors.first.map { $0.line >= 1 && $0.column >= 1 } == true)
        }
        #expect(result.unreadableFiles.keys.sorted() == ["hostile.yaml"])
        #expect(result.deployments.isEmpty)
    }

    @Test func aHugeButLegalListIsBoundedByTheNodeLimit() {
        let text = "a: [" + Array(repeating: "1", count: 150_000).joined(separator: ",") + "]"
        let result = judge(Array(text.utf8))
        #expect(result.errors.first?.code == "yaml-aliasExpansionTooLarge")
    }
}
