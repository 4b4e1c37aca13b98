import Foundation
import Testing
@testable import ReclawYAML

@Suite struct YAMLParserTests {
    let parser = YAMLParser()

    @Test func aMappingKeepsKeysInOrderWithOneBasedMarks() throws {
        let docs = try parser.parse("apiVersion: v1\nmetadata:\n  name: alpha\n")
        let root = try #require(docs.first?.root?.mapping)
        #expect(root.map { $0.key.scalar?.value } == ["apiVersion", "metadata"])
        #expect(root[0].key.mark == SourceMark(line: 1, column: 1))
        #expect(root[0].value.mark == SourceMark(line: 1, column: 13))
        let name = try #require(root[1].value.mapping?.first)
        #expect(name.value.scalar?.value == "alpha")
        #expect(name.value.mark == SourceMark(line: 3, column: 9))
    }

    @Test func scalarsKeepTheirStyleSoQuotedNumbersStayStrings() throws {
        let docs = try parser.parse("a: \"1.10\"\nb: 1.10\nc: ~\nd: |\n  text\n")
        let pairs = try #require(docs.first?.root?.mapping)
        #expect(pairs[0].value.scalar == YAMLScalar(value: "1.10", style: .doubleQuoted))
        #expect(pairs[1].value.scalar == YAMLScalar(value: "1.10", style: .plain))
        #expect(pairs[2].value.scalar?.isNull == true)
        #expect(pairs[3].value.scalar == YAMLScalar(value: "text\n", style: .literal))
    }

    @Test func severalDocumentsAreReturnedSeparately() throws {
        let docs = try parser.parse("a: 1\n---\nb: 2\n---\n")
        #expect(docs.count == 3)
        #expect(docs[1].mark.line == 2)
        #expect(docs[1].root?.mapping?.first?.key.scalar?.value == "b")
        #expect(docs[2].root?.scalar?.isNull == true)
    }

    @Test func anEmptyInputHasNoDocuments() throws {
        #expect(try parser.parse("").isEmpty)
        #expect(try parser.parse("# only a comment\n").isEmpty)
    }

    @Test func duplicateKeysAreKeptForTheCallerToReport() throws {
        let pairs = try #require(try parser.parse("a: 1\na: 2\n").first?.root?.mapping)
        #expect(pairs.count == 2)
        #expect(pairs[1].key.mark.line == 2)
    }

    @Test func aliasesResolveToTheAnchoredNode() throws {
        let pairs = try #require(try parser.parse("a: &x [1, 2]\nb: *x\n").first?.root?.mapping)
        #expect(pairs[1].value.sequence?.count == 2)
    }

    @Test func aSyntaxErrorKeepsLibyamlsMessageAndPosition() {
        #expect {
            try parser.parse("a: [1, 2\nb: 3\n")
        } throws: { error in
            let e = error as! YAMLError
            return e.code == .syntax && e.message.contains("flow sequence") && e.mark?.line == 2
        }
    }

    @Test func anAliasBombIsRefusedBeforeItExpands() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect {
            try parser.parse(text)
        } throws: { ($0 as! YAMLError).code == .aliasExpansionTooLarge }
    }

    @Test func tenThousandLevelsOfNestingAreRefusedWithAPosition() throws {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect {
            try parser.parse(text)
        } throws: { error in
            let e = error as! YAMLError
            return e.code == .nestingTooDeep && e.mark == SourceMark(line: 1, column: 65)
        }
        let blockStyle = (0..<1_000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")
        #expect { try parser.parse(blockStyle) } throws: { ($0 as! YAMLError).code == .nestingTooDeep }
    }

    @Test func aLongCollectionParsesWhole() throws {
        let text = "a: [" + Array(repeating: "1", count: 90_000).joined(separator: ",") + "]"
        let items = try #require(try parser.parse(text).first?.root?.mapping?.first?.value.sequence)
        #expect(items.count == 90_000)
    }

    @Test func anUndefinedAliasIsAnError() {
        #expect { try parser.parse("a: *nowhere\n") } throws: { ($0 as! YAMLError).code == .undefinedAlias }
    }

    @Test func inputOverTheSizeLimitIsRefusedBeforeParsing() {
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: (1 << 20) + 1)
        #expect { try parser.parse(bytes: big) } throws: { ($0 as! YAMLError).code == .inputTooLarge }
    }

    @Test func binaryContentIsRecognised() {
        #expect {
            try parser.parse(bytes: [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00])
        } throws: { ($0 as! YAMLError).code == .binaryContent }
    }

    @Test func invalidUTF8IsReportedWhereItIs() {
        let bytes = Array("a: ok\nb: caf".utf8) + [0xE9] + Array(" au lait\n".utf8)
        #expect {
            try parser.parse(bytes: bytes)
        } throws: { error in
            let e = error as! YAMLError
            return e.code == .invalidEncoding && e.mark == SourceMark(line: 2, column: 7)
        }
    }

    @Test func tabsUsedForIndentationGetTheirOwnMessage() {
        #expect {
            try parser.parse("spec:\n\tregion: us-east-1\n")
        } throws: { error in
            let e = error as! YAMLError
            return e.code == .tabIndentation && e.mark?.line == 2 && e.message.contains("spaces")
        }
    }

    @Test func controlCharactersAreAnEncodingError() {
        #expect {
            try parser.parse(bytes: Array("a: b\u{07}c\n".utf8))
        } throws: { ($0 as! YAMLError).code == .invalidEncoding }
    }
}
