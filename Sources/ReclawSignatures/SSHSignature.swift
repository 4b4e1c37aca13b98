import Crypto
import Foundation

/// An OpenSSH `SSHSIG` signature (PROTOCOL.sshsig), as git writes it for `gpg.format=ssh`: the
/// signer's public key, a namespace, the hash algorithm and the signature over the signed data's
/// hash.
struct SSHSignature: Sendable {
    static let armorBegin = "-----BEGIN SSH SIGNATURE-----"
    static let armorEnd = "-----END SSH SIGNATURE-----"
    private static let magic = Array("SSHSIG".utf8)

    let publicKey: SSHPublicKey
    let namespace: String
    let reserved: [UInt8]
    let hashAlgorithm: String
    /// The inner signature blob: algorithm name and signature bytes.
    let signature: [UInt8]

    /// Parses the armored form.
    init(armored text: String) throws(SignatureFormatError) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: Self.armorBegin), let end = lines.firstIndex(of: Self.armorEnd), begin < end else {
            throw SignatureFormatError("not an armored SSH signature")
        }
        guard let data = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else {
            throw SignatureFormatError("the SSH signature's base64 is not valid")
        }
        try self.init(blob: Array(data))
    }

    init(blob: [UInt8]) throws(SignatureFormatError) {
        var reader = SSHWireReader(blob)
        guard try reader.bytes(6) == Self.magic else { throw SignatureFormatError("no SSHSIG magic") }
        let version = try reader.uint32()
        guard version == 1 else { throw SignatureFormatError("SSHSIG version \(version) is not supported") }
        publicKey = try SSHPublicKey(blob: try reader.string())
        namespace = try reader.text()
        reserved = try reader.string()
        hashAlgorithm = try reader.text()
        signature = try reader.string()
        guard reader.isAtEnd else { throw SignatureFormatError("trailing bytes after the SSH signature") }
    }

    /// Whether the signature signs `message` in `namespace`.
    func verifies(_ message: [UInt8], namespace expected: String) -> Bool {
        guard namespace == expected else { return false }
        let digest: [UInt8]
        switch hashAlgorithm {
        case "sha256": digest = Array(SHA256.hash(data: message))
        case "sha512": digest = Array(SHA512.hash(data: message))
        default: return false
        }
        var signed = SSHWireWriter()
        signed.raw(Self.magic)
        signed.string(namespace)
        signed.string(reserved)
        signed.string(hashAlgorithm)
        signed.string(digest)
        return (try? publicKey.verifies(signature, over: signed.bytes)) ?? false
    }
}
