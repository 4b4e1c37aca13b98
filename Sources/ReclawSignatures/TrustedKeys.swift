import Foundation

/// The OpenPGP public keys of `--trusted-keys`: ASCII-armored key blocks, decoded into the binary
/// keyring `gpgv` reads.
public struct TrustedKeys: Sendable {
    static let begin = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
    static let end = "-----END PGP PUBLIC KEY BLOCK-----"

    public let file: String
    /// The key blocks, concatenated in binary form.
    let keyring: [UInt8]
    let blocks: Int

    /// Reads and decodes `file`.
    public init(contentsOf file: String) throws(SignatureConfigError) {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SignatureConfigError(.unreadable, file: file, "cannot be read: \((error as NSError).localizedDescription)")
        }
        try self.init(text: text, file: file)
    }

    init(text: String, file: String) throws(SignatureConfigError) {
        self.file = file
        var keyring: [UInt8] = [], blocks = 0
        var block: (start: Int, inBody: Bool, base64: String)?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard var current = block else {
                if line == Self.begin { block = (number, false, "") } else if line.hasPrefix("-----BEGIN ") {
                    throw SignatureConfigError(.malformed, file: file, line: number, "'\(line)' is not a public key block; export keys with gpg --armor --export")
                } else if !line.isEmpty && blocks == 0 && !line.hasPrefix("#") {
                    throw SignatureConfigError(.malformed, file: file, line: number, "text outside a '\(Self.begin)' block")
                }
                continue
            }
            if line == Self.end {
                guard let data = Data(base64Encoded: current.base64), !data.isEmpty else {
                    throw SignatureConfigError(.malformed, file: file, line: current.start, "the key block's base64 is not valid")
                }
                let bytes = Array(data)
                guard Self.startsWithPublicKeyPacket(bytes) else {
                    throw SignatureConfigError(.malformed, file: file, line: current.start, "the block does not start with a public key packet")
                }
                keyring += bytes
                blocks += 1
                block = nil
                continue
            }
            if !current.inBody {
                // Armor headers (Version:, Comment:) end at the first empty line.
                if line.isEmpty { current.inBody = true } else if !line.contains(":") {
                    current.inBody = true
                    current.base64 += line
                }
            } else if line.hasPrefix("=") && line.count == 5 {
                // The CRC-24 checksum line.
            } else if !line.isEmpty {
                guard line.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=".contains($0)) }) else {
                    throw SignatureConfigError(.malformed, file: file, line: number, "not base64 inside a key block")
                }
                current.base64 += line
            }
            block = current
        }
        if let block { throw SignatureConfigError(.malformed, file: file, line: block.start, "the key block has no '\(Self.end)' line") }
        guard blocks > 0 else { throw SignatureConfigError(.empty, file: file, "holds no '\(Self.begin)'") }
        self.keyring = keyring
        self.blocks = blocks
    }

    /// A public key packet (tag 6), in the old or the new packet format.
    private static func startsWithPublicKeyPacket(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, first & 0x80 != 0 else { return false }
        let tag = first & 0x40 != 0 ? first & 0x3f : (first >> 2) & 0x0f
        return tag == 6
    }
}
