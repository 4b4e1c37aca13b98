import Foundation
import ReclawGit
@testable import ReclawSignatures
@testable import ReclawSource
import ReclawTestSupport
import Testing

/// Real commits signed with `git commit -S` (SSH keys from ssh-keygen, an OpenPGP key from gpg),
/// read through `SpecSource` with a `SignaturePolicy`.
@Suite struct SignedSourceTests {
    let keys = SigningKeys()
    let upstream: Upstream
    let cache = TemporaryDirectory("reclaw-cache")

    init() throws {
        upstream = try Upstream()
        try keys.ssh("alice")
        try keys.ssh("mallory")
    }

    func source(allowed: [String]? = nil, trustedKeys: String? = nil, ref: String = "main", history: Bool = false) throws -> SpecSource {
        let policy = try SignaturePolicy.load(allowedSigners: allowed.map { keys.allowedSigners($0) }, trustedKeys: trustedKeys,
                                              verifyHistory: history)
        return SpecSource(location: .git(url: upstream.url), ref: ref, cacheDirectory: cache.path, signatures: policy)
    }

    func alice() throws -> [String] { ["alice@example.com namespaces=\"git\" \(try keys.publicKey("alice"))"] }

    func refusal(_ source: SpecSource, since: String? = nil) async -> SignatureRefusal? {
        do {
            _ = try await source.snapshot(verifiedSince: since)
            return nil
        } catch {
            return error.refusal
        }
    }

    @Test func aCommitSignedByAListedSSHKeyIsAcceptedWithItsSigner() async throws {
        try upstream.signWithSSH(try keys.ssh("alice"))
        let commit = try upstream.commit(["README": "hello"])
        let snapshot = try await source(allowed: try alice()).snapshot()
        #expect(snapshot.revision == commit)
        #expect(snapshot.signer?.identity == "alice@example.com")
        #expect(snapshot.signer?.fingerprint.hasPrefix("SHA256:") == true)
    }

    @Test(arguments: ["ecdsa", "rsa"]) func ecdsaAndRSAKeysVerifyToo(type: String) async throws {
        let key = try keys.ssh("bob-\(type)", type: type)
        try upstream.signWithSSH(key)
        try upstream.commit(["README": type])
        let snapshot = try await source(allowed: ["bob \(try keys.publicKey("bob-\(type)"))"]).snapshot()
        #expect(snapshot.signer?.identity == "bob")
    }

    @Test func aCommitSignedByAnUnlistedKeyIsRefusedNamingTheKey() async throws {
        try upstream.signWithSSH(try keys.ssh("mallory"))
        let commit = try upstream.commit(["README": "evil"])
        let refused = try #require(await refusal(try source(allowed: try alice())))
        #expect(refused.commit == commit)
        guard case .untrustedSigner(let key) = refused.reason else { Issue.record("\(refused)"); return }
        #expect(key.hasPrefix("SHA256:"))
        #expect(refused.description.contains("--allowed-signers"))
    }

    @Test func anUnsignedCommitIsRefused() async throws {
        try upstream.commit(["README": "unsigned"])
        let refused = try #require(await refusal(try source(allowed: try alice())))
        #expect(refused.reason == .unsigned)
        #expect(refused.description.contains("refused: unsigned"))
    }

    @Test func aCommitAlteredAfterSigningIsABadSignature() async throws {
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.commit(["README": "signed"])
        let altered = try upstream.alterHeadAfterSigning()
        let refused = try #require(await refusal(try source(allowed: try alice())))
        #expect(refused.commit == altered)
        #expect(refused.reason == .badSignature)
    }

    @Test func aKeyPastItsValidBeforeIsRefusedAtTheCommitTime() async throws {
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.commit(["README": "late"])
        let expired = ["alice@example.com valid-before=\"20200101Z\" \(try keys.publicKey("alice"))"]
        let refused = try #require(await refusal(try source(allowed: expired)))
        #expect(refused.reason == .keyNotValidAtCommitTime)
        #expect(refused.description.contains("allowed_signers:1"))
    }

    @Test func aKeyListedOnlyForAnotherNamespaceIsNotTrustedForGit() async throws {
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.commit(["README": "namespaced"])
        let fileOnly = ["alice@example.com namespaces=\"file\" \(try keys.publicKey("alice"))"]
        let refused = try #require(await refusal(try source(allowed: fileOnly)))
        guard case .untrustedSigner = refused.reason else { Issue.record("\(refused)"); return }
    }

    @Test func aSignedTagVouchesForItsUnsignedCommit() async throws {
        let commit = try upstream.commit(["README": "tagged"])
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.git("tag", "-s", "v1", "-m", "release v1")
        try upstream.git("tag", "-a", "v2", "-m", "unsigned tag")
        try upstream.git("push", "-q", "origin", "v1", "v2")
        let snapshot = try await source(allowed: try alice(), ref: "v1").snapshot()
        #expect(snapshot.revision == commit)
        #expect(snapshot.signer?.identity == "alice@example.com")
        // An unsigned tag falls back to its commit, which is unsigned.
        let refused = try #require(await refusal(try source(allowed: try alice(), ref: "v2")))
        #expect(refused.reason == .unsigned)
    }

    @Test func verifyHistoryRefusesAnUnsignedCommitUnderASignedTip() async throws {
        try upstream.signWithSSH(try keys.ssh("alice"))
        let first = try upstream.commit(["README": "one"])
        try upstream.stopSigning()
        let unsigned = try upstream.commit(["README": "two"])
        try upstream.signWithSSH(try keys.ssh("alice"))
        try upstream.commit(["README": "three"])
        // The tip alone verifies; with the history it does not.
        _ = try await source(allowed: try alice()).snapshot(verifiedSince: first)
        let refused = try #require(await refusal(try source(allowed: try alice(), history: true), since: first))
        #expect(refused.commit == unsigned)
        #expect(refused.reason == .unsigned)
        // With no verified revision yet, only the tip is checked, and the snapshot says so.
        let firstStart = try await source(allowed: try alice(), history: true).snapshot()
        #expect(firstStart.verificationNote?.contains("only the tip") == true)
    }

    @Test func openPGPSignaturesVerifyWithTrustedKeysOnly() async throws {
        let dev = try keys.openPGP("Dev <dev@example.com>")
        let other = try keys.openPGP("Other <other@example.com>")
        let trusted = try keys.exportOpenPGP([dev])
        try upstream.signWithOpenPGP(dev, keys: keys)
        try upstream.commit(["README": "pgp"])
        let snapshot = try await source(trustedKeys: trusted).snapshot()
        #expect(snapshot.signer?.identity == "Dev <dev@example.com>")
        #expect(snapshot.signer?.fingerprint == dev)

        try upstream.signWithOpenPGP(other, keys: keys)
        try upstream.commit(["README": "other"])
        let refused = try #require(await refusal(try source(trustedKeys: trusted)))
        guard case .untrustedSigner(let key) = refused.reason else { Issue.record("\(refused)"); return }
        #expect(other.hasSuffix(key))
        #expect(refused.description.contains("--trusted-keys"))
    }

    @Test func eitherKeyListAcceptsWhenBothAreGiven() async throws {
        let dev = try keys.openPGP("Dev <dev@example.com>")
        try upstream.signWithOpenPGP(dev, keys: keys)
        try upstream.commit(["README": "pgp"])
        let snapshot = try await source(allowed: try alice(), trustedKeys: try keys.exportOpenPGP([dev])).snapshot()
        #expect(snapshot.signer?.method == .openpgp)
    }
}
