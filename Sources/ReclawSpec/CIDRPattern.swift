/// Regular expressions for IPv4 CIDR blocks whose address has no host bits set, as `CIDR` reads
/// them: the JSON Schema's way of saying what `SpecValidator` checks with arithmetic. Each pattern
/// stays within what ECMA-262, Python's `re` and ICU all read alike.
enum CIDRPattern {
    /// An octet of 0 to 255 without leading zeros.
    static let octet = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"

    /// An octet whose lowest `zeroBits` bits are clear.
    static func octet(zeroBits: Int) -> String {
        switch zeroBits {
        case 0: return octet
        case 1: return "(25[024]|2[0-4][02468]|1[0-9][02468]|[1-9][02468]|[02468])"
        case 2: return "(252|2[024][048]|2[13][26]|1[02468][048]|1[13579][26]|[2468][048]|[13579][26]|[048])"
        default: return "(" + stride(from: 0, to: 256, by: 1 << zeroBits).map(String.init).joined(separator: "|") + ")"
        }
    }

    /// Blocks with a prefix length in `prefixes` and no host bits, anchored at both ends.
    static func blocks(_ prefixes: ClosedRange<Int>) -> String {
        var branches: [String] = []
        if prefixes.contains(0) { branches.append("0\\.0\\.0\\.0/0") }
        for position in 0..<4 {
            let here = prefixes.filter { $0 > position * 8 && $0 <= position * 8 + 8 }
            guard !here.isEmpty else { continue }
            let lead = String(repeating: octet + "\\.", count: position)
            let tails = here.map { prefix in
                octet(zeroBits: position * 8 + 8 - prefix) + String(repeating: "\\.0", count: 3 - position) + "/\(prefix)"
            }
            branches.append(lead + "(" + tails.joined(separator: "|") + ")")
        }
        return "^(" + branches.joined(separator: "|") + ")$"
    }
}
