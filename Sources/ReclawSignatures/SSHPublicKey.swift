import _CryptoExtras
import Crypto
import Foundation

/// An SSH public key reclaw can verify signatures with: Ed25519, ECDSA on P-256 and P-384, RSA
/// (rsa-sha2-256 and rsa-sha2-512 signatures).
struct SSHPublicKey: Sendable {
    /// The key's numbers, checked by making the key once (swift-crypto's keys are not Sendable on
    /// every platform, so they are made again to verify).
    enum Material: Sendable {
        case ed25519([UInt8])
        case p256([UInt8])
        case p384([UInt8])
        case rsa(n: [UInt8], e: [UInt8])
    }

    /// The key type as written in key files (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ...).
    let type: String
    let material: Material
    /// The wire-format blob, as base64-decoded from a key line.
    let blob: [UInt8]

    /// OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the blob's SHA-256.
    var fingerprint: String {
        "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// Key types ssh-keygen writes that reclaw does not verify, with why.
    static func unsupported(_ type: String) -> String? {
        if type.hasSuffix("-cert-v01@openssh.com") { return "certificates (\(type)) are not supported; list the signer's plain key" }
        if type.hasPrefix("sk-") { return "security-key signatures (\(type)) are not supported" }
        if type == "ssh-dss" { return "DSA keys are not supported" }
        if type == "ecdsa-sha2-nistp521" { return "ECDSA P-521 keys are not supported" }
        return nil
    }

    static func isKeyType(_ word: some StringProtocol) -> Bool {
        word.hasPrefix("ssh-") || word.hasPrefix("ecdsa-") || word.hasPrefix("sk-")
    }

    init(blob: [UInt8]) throws(SignatureFormatError) {
        var reader = SSHWireReader(blob)
        let type = try reader.text()
        if let why = Self.unsupported(type) { throw SignatureFormatError(why) }
        do {
            switch type {
            case "ssh-ed25519":
                let raw = try reader.string()
                _ = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
                material = .ed25519(raw)
            case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384":
                let curve = try reader.text()
                let point = try reader.string()
                guard curve == (type == "ecdsa-sha2-nistp256" ? "nistp256" : "nistp384") else {
                    throw SignatureFormatError("the key's curve \(curve) does not match its type \(type)")
                }
                if type == "ecdsa-sha2-nistp256" {
                    _ = try P256.Signing.PublicKey(x963Representation: point)
                    material = .p256(point)
                } else {
                    _ = try P384.Signing.PublicKey(x963Representation: point)
                    material = .p384(point)
                }
            case "ssh-rsa":
                let e = try reader.mpint()
                let n = try reader.mpint()
                _ = try _RSA.Signing.PublicKey(n: n, e: e)
                material = .rsa(n: n, e: e)
            default:
                throw SignatureFormatError("unknown key type \(type)")
            }
        } catch let error as SignatureFormatError {
            throw error
        } catch {
            throw SignatureFormatError("the \(type) key is not valid (\(error))")
        }
        self.type = type
        self.blob = blob
    }

    /// Whether `signature` (an SSH signature blob: algorithm name and bytes) signs `data`.
    func verifies(_ signature: [UInt8], over data: [UInt8]) throws(SignatureFormatError) -> Bool {
        var reader = SSHWireReader(signature)
        let algorithm = try reader.text()
        let bytes = try reader.string()
        switch material {
        case .ed25519(let raw):
            guard algorithm == "ssh-ed25519", let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
            return key.isValidSignature(bytes, for: data)
        case .p256(let point):
            guard algorithm == "ecdsa-sha2-nistp256", let key = try? P256.Signing.PublicKey(x963Representation: point),
                  let raw = try Self.ecdsaRaw(bytes, size: 32),
                  let sig = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
            return key.isValidSignature(sig, for: data)
        case .p384(let point):
            guard algorithm == "ecdsa-sha2-nistp384", let key = try? P384.Signing.PublicKey(x963Representation: point),
                  let raw = try Self.ecdsaRaw(bytes, size: 48),
                  let sig = try? P384.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
            return key.isValidSignature(sig, for: data)
        case .rsa(let n, let e):
            // SHA-1 (`ssh-rsa`) signatures are refused, as OpenSSH refuses them for SSHSIG.
            let size = n.count
            guard bytes.count <= size, let key = try? _RSA.Signing.PublicKey(n: n, e: e) else { return false }
            let sig = _RSA.Signing.RSASignature(rawRepresentation: [UInt8](repeating: 0, count: size - bytes.count) + bytes)
            switch algorithm {
            case "rsa-sha2-256": return key.isValidSignature(sig, for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
            case "rsa-sha2-512": return key.isValidSignature(sig, for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5)
            default: return false
            }
        }
    }

    /// An ECDSA signature's r and s (two mpints) as fixed-size big-endian halves; nil if too long.
    private static func ecdsaRaw(_ blob: [UInt8], size: Int) throws(SignatureFormatError) -> [UInt8]? {
        var reader = SSHWireReader(blob)
        let r = try reader.mpint(), s = try reader.mpint()
        guard r.count <= size, s.count <= size else { return nil }
        return [UInt8](repeating: 0, count: size - r.count) + r + [UInt8](repeating: 0, count: size - s.count) + s
    }
}
