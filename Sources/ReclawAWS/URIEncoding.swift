/// Percent-encoding as AWS signs it: RFC 3986 unreserved characters stay, everything else is %XX.
enum URIEncoding {
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    static func encode(_ s: String, spaceAsPlus: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if isUnreserved(b) {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else if spaceAsPlus && b == 0x20 {
                out += "+"
            } else {
                out += "%" + hexByte(b)
            }
        }
        return out
    }

    private static func hexByte(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }

    /// Decodes %XX sequences (and, for form bodies, `+` as space).
    static func decode(_ s: String, plusAsSpace: Bool = false) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == 0x25, it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else if plusAsSpace && b == 0x2B {
                bytes.append(0x20)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `key=value&...` with both sides encoded, in the given order, for query-protocol bodies: as
    /// the SDKs write them (`application/x-www-form-urlencoded`, a space as `+`).
    static func form(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0, spaceAsPlus: true) + "=" + encode($0.1, spaceAsPlus: true) }.joined(separator: "&")
    }
}
