import Foundation
@testable import ReclawSignatures
import ReclawTestSupport
import Testing

/// The allowed_signers parser, the SSHSIG verifier and gpgv's status lines, as plain values.
@Suite struct SignatureFormatTests {
    static let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"

    func parse(_ text: String) throws(SignatureConfigError) -> AllowedSigners {
        try AllowedSigners(text: text, file: "signers")
    }

    @Test func principalsOptionsAndKeysAreRead() throws {
        let signers = try parse("""
        # the team
        alice@example.com,alice@corp.example namespaces="git,file",valid-after="20240101",valid-before="20300101Z" \(Self.ed25519) alice's key

        bob@example.com \(Self.ed25519)
        """)
        #expect(signers.entries.count == 2)
        let alice = signers.entries[0]
        #expect(alice.principals == ["alice@example.com", "alice@corp.example"])
        #expect(alice.namespaces == ["git", "file"])
        #expect(alice.allows(namespace: "git"))
        #expect(alice.line == 2)
        #expect(alice.isValid(at: OpenSSHTime.parse("20250601Z")!))
        #expect(!alice.isValid(at: OpenSSHTime.parse("20300101Z")!))
        #expect(signers.entries[1].namespaces == nil)
        #expect(alice.key.fingerprint.hasPrefix("SHA256:"))
    }

    @Test func unsupportedOptionsAndPatternsAreErrorsNamingTheLine() {
        let cases: [(String, SignatureConfigError.Code)] = [
            ("alice cert-authority \(Self.ed25519)", .unsupportedOption),
            ("*@example.com \(Self.ed25519)", .unsupportedOption),
            ("alice ssh-ed25519-cert-v01@openssh.com AAAA", .unsupportedKey),
            ("alice ssh-ed25519 not-base64!", .malformed),
            ("alice valid-before=\"yesterday\" \(Self.ed25519)", .malformed),
            ("alice", .malformed),
        ]
        for (line, code) in cases {
            do {
                _ = try parse("\n" + line)
                Issue.record("accepted: \(line)")
            } catch {
                #expect(error.code == code, "\(line)")
                #expect(error.description.hasPrefix("signers:2: "), "\(error)")
            }
        }
    }

    @Test func anEmptyFileIsAnError() {
        #expect(throws: SignatureConfigError.self) { try parse("# nobody\n") }
    }

    @Test func anSSHSIGSignatureVerifiesOnlyOverItsMessageAndNamespace() throws {
        let keys = SigningKeys()
        let key = try keys.ssh("signer")
        let message = keys.dir.write("message", "tree 1234\n\nhello\n")
        try Command.check(["ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", key, message])
        let armored = try String(contentsOfFile: message + ".sig", encoding: .utf8)
        let signature = try SSHSignature(armored: armored)
        #expect(signature.namespace == "git")
        #expect(signature.verifies(Array("tree 1234\n\nhello\n".utf8), namespace: "git"))
        #expect(!signature.verifies(Array("tree 1234\n\nhello!\n".utf8), namespace: "git"))
        #expect(!signature.verifies(Array("tree 1234\n\nhello\n".utf8), namespace: "file"))
        #expect(throws: SignatureFormatError.self) { try SSHSignature(armored: "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----") }
    }

    @Test func gpgvStatusLinesGiveTheOutcome() {
        let good = """
        [GNUPG:] NEWSIG
        [GNUPG:] GOODSIG 0123456789ABCDEF Dev <dev@example.com>
        [GNUPG:] VALIDSIG AAAA 2026-01-01 1767225600 0 4 0 22 10 00 FFFF
        """
        #expect(GPGVerifier.outcome(statusLines: good) == .good(fingerprint: "FFFF", userID: "Dev <dev@example.com>"))
        #expect(GPGVerifier.outcome(statusLines: "[GNUPG:] ERRSIG 0123 22 10 00 1767225600 9 -\n[GNUPG:] NO_PUBKEY 0123\n") == .noPublicKey(keyID: "0123"))
        #expect(GPGVerifier.outcome(statusLines: "[GNUPG:] BADSIG 0123 Dev\n") == .bad)
        #expect(GPGVerifier.outcome(statusLines: "[GNUPG:] EXPKEYSIG 0123 Dev\n[GNUPG:] VALIDSIG A B C\n") == .keyNotValid(keyID: "0123"))
    }

    @Test func armoredKeyBlocksAreDecodedAndGarbageNamesItsLine() throws {
        #expect(throws: SignatureConfigError.self) { try TrustedKeys(text: "hello\n", file: "keys") }
        do {
            _ = try TrustedKeys(text: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ!!\n-----END PGP PUBLIC KEY BLOCK-----\n", file: "keys")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "keys:3: not base64 inside a key block")
        }
    }
}
