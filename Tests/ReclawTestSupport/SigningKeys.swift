import Foundation

/// Keys to sign test commits with: SSH keys made by ssh-keygen, and an OpenPGP key made by gpg in
/// a GNUPGHOME of its own (its agent stopped when the keys are released).
public final class SigningKeys: @unchecked Sendable {
    public let dir = TemporaryDirectory("reclaw-keys")
    public var gnupgHome: String { dir.file("gnupg") }
    /// A gpg that always uses `gnupgHome`, for git's `gpg.program`.
    public var gpgProgram: String { dir.file("gpg-here") }

    public init() {}

    deinit {
        if FileManager.default.fileExists(atPath: gnupgHome) {
            _ = try? Command.run(["gpgconf", "--kill", "gpg-agent"], environment: ["GNUPGHOME": gnupgHome]) as CommandResult
        }
    }

    /// Makes an SSH key pair `name` (ssh-keygen -t `type`); returns the private key's path.
    @discardableResult
    public func ssh(_ name: String, type: String = "ed25519") throws -> String {
        let path = dir.file(name)
        if !FileManager.default.fileExists(atPath: path) {
            try Command.check(["ssh-keygen", "-q", "-t", type, "-N", "", "-C", name, "-f", path])
        }
        return path
    }

    /// The `type base64` part of a public key.
    public func publicKey(_ name: String) throws -> String {
        let line = try String(contentsOfFile: dir.file(name + ".pub"), encoding: .utf8)
        return line.split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// Writes an allowed_signers file; returns its path.
    public func allowedSigners(_ lines: [String], file: String = "allowed_signers") -> String {
        dir.write(file, lines.joined(separator: "\n") + "\n")
    }

    /// Makes the OpenPGP key for `userID` (Ed25519, no passphrase); returns its fingerprint.
    @discardableResult
    public func openPGP(_ userID: String) throws -> String {
        if !FileManager.default.fileExists(atPath: gnupgHome) {
            try FileManager.default.createDirectory(atPath: gnupgHome, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            dir.write("gpg-here", "#!/bin/sh\nexec gpg --homedir '\(gnupgHome)' \"$@\"\n")
            chmod(gpgProgram, 0o755)
        }
        try Command.check(["gpg", "--homedir", gnupgHome, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                           "--quick-gen-key", userID, "ed25519", "sign", "never"])
        let listing = try Command.check(["gpg", "--homedir", gnupgHome, "--with-colons", "--list-keys", userID])
        guard let line = listing.split(separator: "\n").first(where: { $0.hasPrefix("fpr:") }) else { throw SigningError("no fingerprint for \(userID)") }
        return String(line.split(separator: ":", omittingEmptySubsequences: false)[9])
    }

    /// The ASCII-armored export of `fingerprints`, written to `file`; returns its path.
    public func exportOpenPGP(_ fingerprints: [String], file: String = "trusted.asc") throws -> String {
        dir.write(file, try Command.check(["gpg", "--homedir", gnupgHome, "--armor", "--export"] + fingerprints))
    }
}

/// A test fixture that could not be made.
public struct SigningError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Upstream {
    /// Signs the next commits and tags with the SSH key at `privateKey`.
    public func signWithSSH(_ privateKey: String) throws {
        try git("config", "gpg.format", "ssh")
        try git("config", "user.signingkey", privateKey)
        try git("config", "commit.gpgsign", "true")
    }

    /// Signs the next commits and tags with the OpenPGP key `fingerprint` of `keys`.
    public func signWithOpenPGP(_ fingerprint: String, keys: SigningKeys) throws {
        try git("config", "gpg.format", "openpgp")
        try git("config", "gpg.program", keys.gpgProgram)
        try git("config", "user.signingkey", fingerprint)
        try git("config", "commit.gpgsign", "true")
    }

    /// The next commits are not signed.
    public func stopSigning() throws {
        try git("config", "commit.gpgsign", "false")
    }

    /// Rewrites HEAD's message keeping its `gpgsig` header (the signature no longer matches), and
    /// pushes it; returns the new commit id.
    @discardableResult
    public func alterHeadAfterSigning() throws -> String {
        let raw = try Command.check(["git", "-C", work, "cat-file", "commit", "HEAD"])
        let altered = raw.replacingOccurrences(of: "\n\n", with: "\n\nALTERED ", options: [], range: raw.range(of: "\n\n"))
        let file = dir.write("altered-commit", altered)
        let id = try git("hash-object", "-t", "commit", "-w", file)
        try git("reset", "-q", "--hard", id)
        try git("push", "-q", "-f", "origin", "HEAD:main")
        return id
    }
}
