import Foundation

/// Reads the SSH wire encoding (RFC 4251 §5): big-endian uint32 and length-prefixed strings.
struct SSHWireReader {
    private let data: [UInt8]
    private var offset = 0

    init(_ data: [UInt8]) { self.data = data }

    var isAtEnd: Bool { offset == data.count }

    mutating func uint32() throws(SignatureFormatError) -> UInt32 {
        guard data.count - offset >= 4 else { throw SignatureFormatError("truncated integer") }
        defer { offset += 4 }
        return data[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func string() throws(SignatureFormatError) -> [UInt8] {
        let length = Int(try uint32())
        guard length <= data.count - offset else { throw SignatureFormatError("truncated string") }
        defer { offset += length }
        return Array(data[offset..<offset + length])
    }

    mutating func text() throws(SignatureFormatError) -> String {
        let raw = try string()
        guard let s = String(validating: raw, as: UTF8.self) else { throw SignatureFormatError("a name is not UTF-8") }
        return s
    }

    /// An mpint as unsigned big-endian magnitude bytes (leading zeros dropped).
    mutating func mpint() throws(SignatureFormatError) -> [UInt8] {
        Array(try string().drop { $0 == 0 })
    }

    mutating func bytes(_ count: Int) throws(SignatureFormatError) -> [UInt8] {
        guard data.count - offset >= count else { throw SignatureFormatError("truncated data") }
        defer { offset += count }
        return Array(data[offset..<offset + count])
    }
}

/// Writes the SSH wire encoding, for the data an SSHSIG signature covers.
struct SSHWireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }

    mutating func string(_ data: [UInt8]) {
        let n = UInt32(data.count)
        bytes += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        bytes += data
    }

    mutating func string(_ text: String) { string(Array(text.utf8)) }
}

/// A signature or key whose bytes do not follow their format.
struct SignatureFormatError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
