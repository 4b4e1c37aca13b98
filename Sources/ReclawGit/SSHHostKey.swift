import Foundation
internal import CGit2

/// An SSH server's host key as libgit2 saw it during a fetch, so the caller decides whether
/// the server is the one it expects (libgit2 1.5 has no known_hosts check of its own).
public struct SSHHostKey: Sendable, Equatable {
    /// The host name from the URL.
    public var host: String
    /// The port from the URL (22 when none is given).
    public var port: Int
    /// The key's algorithm name as known_hosts writes it (`ssh-ed25519`, `ssh-rsa`, ...), when known.
    public var algorithm: String?
    /// The key blob in SSH wire format (what known_hosts holds base64-encoded), when known.
    public var blob: [UInt8]?
    /// SHA-256 of the key blob: what `ssh-keygen -l` prints as `SHA256:...`.
    public var sha256: [UInt8]

    public init(host: String, port: Int, algorithm: String?, blob: [UInt8]?, sha256: [UInt8]) {
        self.host = host
        self.port = port
        self.algorithm = algorithm
        self.blob = blob
        self.sha256 = sha256
    }

    /// The OpenSSH fingerprint: `SHA256:` and unpadded base64.
    public var fingerprint: String {
        "SHA256:" + Data(sha256).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// Reads a libgit2 SSH certificate; nil for other certificate kinds.
    static func from(_ cert: UnsafeMutablePointer<git_cert>, host: String, port: Int) -> SSHHostKey? {
        guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return nil }
        return cert.withMemoryRebound(to: git_cert_hostkey.self, capacity: 1) { key in
            let k = key.pointee
            guard k.type.rawValue & GIT_CERT_SSH_SHA256.rawValue != 0 else { return nil }
            let sha = withUnsafeBytes(of: k.hash_sha256) { Array($0) }
            var blob: [UInt8]?
            var algorithm: String?
            if k.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = k.hostkey, k.hostkey_len > 0 {
                blob = Array(UnsafeRawBufferPointer(start: raw, count: k.hostkey_len))
                algorithm = Self.algorithmName(k.raw_type)
            }
            return SSHHostKey(host: host, port: port, algorithm: algorithm, blob: blob, sha256: sha)
        }
    }

    private static func algorithmName(_ type: git_cert_ssh_raw_type_t) -> String? {
        switch type {
        case GIT_CERT_SSH_RAW_TYPE_RSA: "ssh-rsa"
        case GIT_CERT_SSH_RAW_TYPE_DSS: "ssh-dss"
        case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256: "ecdsa-sha2-nistp256"
        case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384: "ecdsa-sha2-nistp384"
        case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521: "ecdsa-sha2-nistp521"
        case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: "ssh-ed25519"
        default: nil
        }
    }
}

/// Decides whether an SSH server's host key is trusted.
public typealias SSHHostKeyVerifier = @Sendable (SSHHostKey) -> Bool
