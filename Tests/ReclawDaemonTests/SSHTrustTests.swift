import Crypto
import Foundation
import ReclawDaemon
import ReclawGit
import ReclawSource
import Testing

@Suite struct SSHTrustTests {
    static let blob = Data(base64Encoded: "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ")!
    static let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"

    func key(_ host: String, port: Int = 22) -> SSHHostKey {
        SSHHostKey(host: host, port: port, algorithm: "ssh-ed25519", blob: Array(Self.blob), sha256: Array(SHA256.hash(data: Self.blob)))
    }

    @Test func aKnownHostsLineTrustsItsKeyOnlyForItsHostAndPort() {
        let trust = SSHTrust(knownHosts: "git.example.com \(Self.line)\n[git.example.com]:2222 \(Self.line)\n")
        #expect(trust.trusts(key("git.example.com")))
        #expect(trust.trusts(key("git.example.com", port: 2222)))
        #expect(!trust.trusts(key("git.example.com", port: 2200)))
        #expect(!trust.trusts(key("evil.example.com")))
    }

    @Test func wildcardsMatchAndNegatedPatternsExclude() {
        let trust = SSHTrust(knownHosts: "*.example.com,!bad.example.com \(Self.line)\n")
        #expect(trust.trusts(key("git.example.com")))
        #expect(!trust.trusts(key("bad.example.com")))
        #expect(!trust.trusts(key("example.org")))
    }

    @Test func aDifferentKeyForAKnownHostIsRefused() {
        let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        #expect(!SSHTrust(knownHosts: "git.example.com \(other)\n").trusts(key("git.example.com")))
    }

    @Test func aPinnedFingerprintTrustsTheKeyOnAnyHost() throws {
        let fingerprint = key("h").fingerprint
        #expect(fingerprint.hasPrefix("SHA256:") && !fingerprint.hasSuffix("="))
        let trust = try SSHTrust.fromEnvironment(["RECLAW_GIT_SSH_HOST_FINGERPRINT": "SHA256:nope, \(fingerprint)"])
        #expect(trust.trusts(key("anything", port: 7999)))
    }

    @Test func aMalformedFingerprintOrMissingKnownHostsFileIsAnError() {
        #expect(throws: SourceError.self) { try SSHTrust.fromEnvironment(["RECLAW_GIT_SSH_HOST_FINGERPRINT": "aa:bb:cc"]) }
        #expect(throws: SourceError.self) { try SSHTrust.fromEnvironment(["RECLAW_GIT_SSH_KNOWN_HOSTS": "/nonexistent/known_hosts"]) }
    }

    @Test func commentsCertificateAuthoritiesAndGarbageAreIgnored() {
        let trust = SSHTrust(knownHosts: "# comment\n@cert-authority *.example.com \(Self.line)\nnot a line\n\n")
        #expect(trust.isEmpty)
    }
}
