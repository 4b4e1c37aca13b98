import Foundation

/// How to authenticate to a remote; secrets here never appear in errors or logs.
public enum GitCredentials: Sendable {
    /// HTTP(S) basic authentication with a token as password.
    case token(username: String, token: String)
    /// An SSH key pair from files.
    case sshKey(username: String, privateKeyPath: String, publicKeyPath: String?, passphrase: String?)
}

/// What reclaw reads from a remote's URL: the port it connects to, and the URL without secrets.
extension GitRepository {
    /// `90 s`, `2.5 s`, for messages.
    static func seconds(_ d: Duration) -> String {
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }

    /// The TCP port a network URL connects to; nil for local ones.
    static func networkPort(_ url: String) -> Int? {
        if !url.contains("://") { return url.contains("@") && url.contains(":") ? 22 : nil }  // user@host:path
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased() else { return nil }
        if let port = c.port { return port }
        switch scheme {
        case "git": return 9418
        case "http": return 80
        case "https": return 443
        case "ssh", "ssh+git", "git+ssh": return 22
        default: return nil
        }
    }

    /// The port of an ssh:// URL, 22 otherwise.
    static func sshPort(_ url: String) -> Int {
        guard url.hasPrefix("ssh://"), let c = URLComponents(string: url), let port = c.port else { return 22 }
        return port
    }

    /// A URL with any user:password part removed, for messages.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let slash = url[scheme.upperBound...].firstIndex(of: "/") ?? url.endIndex
        guard at < slash else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
    }
}
