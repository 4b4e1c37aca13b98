import Foundation
import ReclawGit

/// What `--allowed-signers`, `--trusted-keys` and `--verify-history` ask: a revision is accepted
/// when either key list accepts its signature. Key files are read once, at start-up.
public struct SignaturePolicy: Sendable {
    /// The namespace git signs commits and tags in (`ssh-keygen -Y sign -n git`).
    static let namespace = "git"

    public let allowedSigners: AllowedSigners?
    public let trustedKeys: TrustedKeys?
    /// Every commit since the last verified revision must verify, not only the tip.
    public let verifyHistory: Bool
    let gpg: GPGVerifier

    public init(allowedSigners: AllowedSigners?, trustedKeys: TrustedKeys?, verifyHistory: Bool = false) {
        self.allowedSigners = allowedSigners
        self.trustedKeys = trustedKeys
        self.verifyHistory = verifyHistory
        gpg = GPGVerifier(keyring: trustedKeys?.keyring ?? [])
    }

    /// Reads the files named by the options; nil when neither is given.
    public static func load(allowedSigners: String?, trustedKeys: String?, verifyHistory: Bool) throws(SignatureConfigError) -> SignaturePolicy? {
        guard allowedSigners != nil || trustedKeys != nil else { return nil }
        var ssh: AllowedSigners?, pgp: TrustedKeys?
        if let allowedSigners { ssh = try AllowedSigners(contentsOf: allowedSigners) }
        if let trustedKeys { pgp = try TrustedKeys(contentsOf: trustedKeys) }
        return SignaturePolicy(allowedSigners: ssh, trustedKeys: pgp, verifyHistory: verifyHistory)
    }

    /// The signer, or why the object is refused.
    public func verify(_ object: GitSignedObject) -> Result<VerifiedSigner, SignatureRefusal> {
        func refuse(_ reason: SignatureRefusalReason, signer: String? = nil, _ hint: String) -> Result<VerifiedSigner, SignatureRefusal> {
            .failure(SignatureRefusal(commit: object.commit, tag: object.tagName, reason: reason, signer: signer, hint: hint))
        }
        guard let signature = object.signature else {
            return refuse(.unsigned, "no option accepts an unsigned \(object.kind.rawValue): sign it (\(object.kind == .tag ? "git tag -s" : "git commit -S")) with a key in \(options)")
        }
        if signature.contains(SSHSignature.armorBegin) { return verifySSH(signature, object, refuse) }
        if signature.contains("-----BEGIN PGP SIGNATURE-----") { return verifyOpenPGP(signature, object, refuse) }
        return refuse(.badSignature, "the signature is neither SSH nor OpenPGP; no option accepts it")
    }

    private var options: String {
        [allowedSigners.map { "--allowed-signers \($0.file)" }, trustedKeys.map { "--trusted-keys \($0.file)" }]
            .compactMap { $0 }.joined(separator: " or ")
    }

    private func verifySSH(_ text: String, _ object: GitSignedObject,
                           _ refuse: (SignatureRefusalReason, String?, String) -> Result<VerifiedSigner, SignatureRefusal>) -> Result<VerifiedSigner, SignatureRefusal> {
        let signature: SSHSignature
        do { signature = try SSHSignature(armored: text) } catch {
            return refuse(.badSignature, nil, "the SSH signature cannot be read (\(error)); no option accepts it")
        }
        let key = signature.publicKey.fingerprint
        guard signature.verifies(object.signedData, namespace: Self.namespace) else {
            return refuse(.badSignature, key, "the signature does not match the \(object.kind.rawValue)'s content (altered after signing?); no option accepts it")
        }
        let entries = allowedSigners?.entries(for: signature.publicKey).filter { $0.allows(namespace: Self.namespace) } ?? []
        guard !entries.isEmpty else {
            let file = allowedSigners?.file ?? "FILE"
            return refuse(.untrustedSigner(key), key, "add the key to --allowed-signers \(file) (with namespaces=\"git\" if it names namespaces)")
        }
        guard let entry = entries.first(where: { $0.isValid(at: object.time) }) else {
            let lines = entries.map { "\(allowedSigners!.file):\($0.line)" }.joined(separator: ", ")
            return refuse(.keyNotValidAtCommitTime, key, "widen valid-after/valid-before at \(lines) (--allowed-signers) to include \(ISO8601DateFormatter().string(from: object.time))")
        }
        return .success(VerifiedSigner(identity: entry.principals.joined(separator: ","), fingerprint: key, method: .ssh))
    }

    private func verifyOpenPGP(_ text: String, _ object: GitSignedObject,
                               _ refuse: (SignatureRefusalReason, String?, String) -> Result<VerifiedSigner, SignatureRefusal>) -> Result<VerifiedSigner, SignatureRefusal> {
        let file = trustedKeys?.file ?? "FILE"
        switch gpg.verify(signature: text, data: object.signedData) {
        case .good(let fingerprint, let userID):
            return .success(VerifiedSigner(identity: userID, fingerprint: fingerprint, method: .openpgp))
        case .bad:
            return refuse(.badSignature, nil, "the signature does not match the \(object.kind.rawValue)'s content (altered after signing?); no option accepts it")
        case .noPublicKey(let keyID):
            return refuse(.untrustedSigner(keyID), keyID, "add the key (gpg --armor --export \(keyID)) to --trusted-keys \(file)")
        case .keyNotValid(let keyID):
            return refuse(.keyNotValidAtCommitTime, keyID, "the key expired or was revoked; a renewed export of it in --trusted-keys \(file) would accept it")
        case .failed(let why):
            return refuse(.badSignature, nil, "\(why); no option accepts it")
        }
    }
}
