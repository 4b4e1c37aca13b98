/// An IPv4 CIDR block, for the containment and overlap checks AWS would otherwise make at apply time.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public var address: UInt32
    public var prefix: Int

    /// Parses `a.b.c.d/n`; nil when it is not one. Numbers with leading zeros (`010`), which some
    /// parsers read as octal, are refused.
    public init?(_ text: String) {
        func plain(_ digits: Substring) -> Bool {
            !digits.isEmpty && digits.count <= 3 && digits.allSatisfy { $0.isASCII && $0.isNumber } && !(digits.count > 1 && digits.first == "0")
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, plain(parts[1]), let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var address: UInt32 = 0
        for octet in octets {
            guard plain(octet), let v = UInt32(octet), v <= 255 else { return nil }
            address = address << 8 | v
        }
        self.address = address
        self.prefix = prefix
    }

    public var mask: UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }
    public var network: UInt32 { address & mask }
    public var hasHostBits: Bool { address & ~mask != 0 }
    public var last: UInt32 { network | ~mask }

    /// The same block with host bits cleared.
    public var normalized: CIDR {
        var c = self
        c.address = network
        return c
    }

    public func contains(_ other: CIDR) -> Bool {
        other.prefix >= prefix && other.network & mask == network
    }

    public func overlaps(_ other: CIDR) -> Bool {
        network <= other.last && other.network <= last
    }

    public var description: String {
        "\(address >> 24).\(address >> 16 & 255).\(address >> 8 & 255).\(address & 255)/\(prefix)"
    }
}
