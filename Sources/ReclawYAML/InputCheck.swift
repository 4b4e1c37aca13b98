/// Byte-level checks that give binary and badly encoded files a clear error before libyaml sees them.
enum InputCheck {
    static func check(_ bytes: [UInt8]) throws(YAMLError) {
        if let nul = bytes.firstIndex(of: 0) {
            throw YAMLError(
                code: .binaryContent,
                message: "this looks like a binary file (it contains a NUL byte), not YAML text",
                mark: mark(in: bytes, offset: nul))
        }
        if let bad = firstInvalidUTF8(bytes) {
            throw YAMLError(
                code: .invalidEncoding,
                message: "the file is not valid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)) at offset \(bad))",
                mark: mark(in: bytes, offset: bad))
        }
    }

    /// The offset of the first byte that does not start or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length: Int
            var minimum: UInt32 = 0
            if b < 0x80 { i += 1; continue }
            else if b & 0xE0 == 0xC0 { length = 2; minimum = 0x80 }
            else if b & 0xF0 == 0xE0 { length = 3; minimum = 0x800 }
            else if b & 0xF8 == 0xF0 { length = 4; minimum = 0x10000 }
            else { return i }
            guard i + length <= bytes.count else { return i }
            var scalar = UInt32(b) & (0xFF >> UInt32(length + 1))
            for j in 1..<length {
                let c = bytes[i + j]
                guard c & 0xC0 == 0x80 else { return i }
                scalar = scalar << 6 | UInt32(c & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return i }
            i += length
        }
        return nil
    }

    /// The 1-based line and column (in characters) of a byte offset.
    static func mark(in bytes: [UInt8], offset: Int) -> SourceMark {
        var line = 1
        var column = 1
        for b in bytes[..<offset] {
            if b == UInt8(ascii: "\n") { line += 1; column = 1 }
            else if b & 0xC0 != 0x80 { column += 1 }
        }
        return SourceMark(line: line, column: column)
    }

    /// The character at a mark, if the text has one there.
    static func character(in bytes: [UInt8], at mark: SourceMark) -> Character? {
        let text = String(decoding: bytes, as: UTF8.self)
        var line = 1
        var column = 1
        for c in text {
            if line == mark.line && column == mark.column { return c }
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
            if line > mark.line { return nil }
        }
        return nil
    }
}
