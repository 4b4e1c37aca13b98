import Foundation

/// Why a revision is refused, as the one-line error, the `SourceRejected` event and the refusal
/// metric name it.
public enum SignatureRefusalReason: Sendable, Hashable, CustomStringConvertible {
    case unsigned
    /// Signed by a key no `--allowed-signers` entry (for namespace `git`) or `--trusted-keys` key
    /// lists; carries its fingerprint (an OpenPGP key id when gpgv names no more).
    case untrustedSigner(String)
    /// The signature does not match the object's content, or cannot be read.
    case badSignature
    /// The key is listed, but not for the commit's time (`valid-after`/`valid-before`, an expired
    /// or revoked OpenPGP key).
    case keyNotValidAtCommitTime

    public var description: String {
        switch self {
        case .unsigned: return "unsigned"
        case .untrustedSigner(let key): return "untrusted signer \(key)"
        case .badSignature: return "bad signature"
        case .keyNotValidAtCommitTime: return "key not valid at the commit time"
        }
    }

    /// The metric label and audit error code.
    public var code: String {
        switch self {
        case .unsigned: return "unsigned"
        case .untrustedSigner: return "untrusted_signer"
        case .badSignature: return "bad_signature"
        case .keyNotValidAtCommitTime: return "key_not_valid"
        }
    }

    public static let allCodes = ["unsigned", "untrusted_signer", "bad_signature", "key_not_valid"]
}

/// A revision refused for its signature: which commit (and tag), why, and what would accept it.
public struct SignatureRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var commit: String
    public var tag: String?
    public var reason: SignatureRefusalReason
    /// The signing key's fingerprint, when there is a signature.
    public var signer: String?
    /// The option that would accept it, or why none would.
    public var hint: String

    public init(commit: String, tag: String? = nil, reason: SignatureRefusalReason, signer: String? = nil, hint: String) {
        self.commit = commit
        self.tag = tag
        self.reason = reason
        self.signer = signer
        self.hint = hint
    }

    /// The one line `plan`, `apply` and `drift` print.
    public var description: String {
        "commit \(commit)\(tag.map { " (tag \($0))" } ?? "") refused: \(reason); \(hint)"
    }
}

/// Who signed a verified revision: the `allowed_signers` principals or the OpenPGP user id, and
/// the key's fingerprint.
public struct VerifiedSigner: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Method: String, Sendable, Codable { case ssh, openpgp }

    public var identity: String
    public var fingerprint: String
    public var method: Method

    public init(identity: String, fingerprint: String, method: Method) {
        self.identity = identity
        self.fingerprint = fingerprint
        self.method = method
    }

    public var description: String { "\(identity) (\(method.rawValue) \(fingerprint))" }
}
