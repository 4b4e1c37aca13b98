import Crypto
import Foundation
import ReclawGit

/// The SSH host keys reclaw trusts for a git source: entries in OpenSSH known_hosts format
/// (plain, wildcard and hashed host names, `@revoked` honoured) and pinned `SHA256:` fingerprints.
public struct SSHTrust: Sendable {
    struct Entry: Sendable {
        var revoked: Bool
        var patterns: [String]
        var keyDigest: [UInt8]
    }

    var entries: [Entry] = []
    var fingerprints: Set<String> = []

    public init(knownHosts: String = "", fingerprints: [String] = []) {
        entries = knownHosts.split(whereSeparator: \.isNewline).compactMap { Self.parse(String($0)) }
        self.fingerprints = Set(fingerprints.map { $0.replacingOccurrences(of: "=", with: "") })
    }

    /// Whether nothing is trusted at all.
    public var isEmpty: Bool { entries.isEmpty && fingerprints.isEmpty }

    /// Trusted when a pinned fingerprint matches, or a known_hosts line for this host (and port)
    /// carries this key; a matching `@revoked` line refuses the key whatever else says.
    public func trusts(_ key: SSHHostKey) -> Bool {
        let name = key.port == 22 ? key.host : "[\(key.host)]:\(key.port)"
        let matching = entries.filter { $0.keyDigest == key.sha256 && Self.hostMatches(name, $0.patterns) }
        if matching.contains(where: \.revoked) { return false }
        return !matching.isEmpty || fingerprints.contains(key.fingerprint)
    }

    /// The verifier to hand to `GitRepository.fetch`.
    public var verifier: SSHHostKeyVerifier { { self.trusts($0) } }

    static func parse(_ line: String) -> Entry? {
        var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = fields.first, !first.hasPrefix("#") else { return nil }
        var revoked = false
        if first.hasPrefix("@") {
            guard first == "@revoked" else { return nil }  // @cert-authority: certificates are not supported
            revoked = true
            fields.removeFirst()
        }
        // The key blob starts with its own algorithm name, which must agree with the line's.
        guard fields.count >= 3, let blob = Data(base64Encoded: fields[2]),
              blob.starts(with: [0, 0, 0, UInt8(truncatingIfNeeded: fields[1].utf8.count)] + Array(fields[1].utf8)) else { return nil }
        return Entry(revoked: revoked, patterns: fields[0].split(separator: ",").map(String.init),
                     keyDigest: Array(SHA256.hash(data: blob)))
    }

    /// OpenSSH host matching: any positive pattern matches and no negated one does.
    static func hostMatches(_ name: String, _ patterns: [String]) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("|1|") {
                if hashedMatches(name, pattern) { matched = true }
            } else if pattern.hasPrefix("!") {
                if glob(String(pattern.dropFirst()).lowercased(), name.lowercased()) { return false }
            } else if glob(pattern.lowercased(), name.lowercased()) {
                matched = true
            }
        }
        return matched
    }

    /// `|1|salt|hash`: HMAC-SHA1 of the host name keyed by the salt, both base64.
    static func hashedMatches(_ name: String, _ pattern: String) -> Bool {
        let parts = pattern.split(separator: "|", omittingEmptySubsequences: true)
        guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])), let hash = Data(base64Encoded: String(parts[2])) else { return false }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
        return Data(mac) == hash
    }

    /// `*` and `?` wildcards.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// From the environment: `RECLAW_GIT_SSH_KNOWN_HOSTS` (a file) and/or
    /// `RECLAW_GIT_SSH_HOST_FINGERPRINT` (comma-separated), else `~/.ssh/known_hosts`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(SourceError) -> SSHTrust {
        let pins = (environment["RECLAW_GIT_SSH_HOST_FINGERPRINT"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for pin in pins where !pin.hasPrefix("SHA256:") {
            throw SourceError("RECLAW_GIT_SSH_HOST_FINGERPRINT: '\(pin)' is not a SHA256:... fingerprint (as `ssh-keygen -lf` prints it)")
        }
        var knownHosts = ""
        if let file = environment["RECLAW_GIT_SSH_KNOWN_HOSTS"], !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw SourceError("RECLAW_GIT_SSH_KNOWN_HOSTS: cannot read \(file)")
            }
            knownHosts = text
        } else if pins.isEmpty, let home = environment["HOME"] {
            knownHosts = (try? String(contentsOfFile: home + "/.ssh/known_hosts", encoding: .utf8)) ?? ""
        }
        return SSHTrust(knownHosts: knownHosts, fingerprints: pins)
    }
}
