import Foundation
import ReclawGit

/// Git credentials from the environment, never logged: a token for HTTP(S)
/// (`RECLAW_GIT_TOKEN`, with `RECLAW_GIT_USERNAME`, or a git-credentials file in
/// `RECLAW_GIT_CREDENTIALS_FILE`) and a key file for SSH (`RECLAW_GIT_SSH_KEY`); the SSH
/// server itself is checked against `SSHTrust`. A credentials file that is named but cannot be read
/// is an error, not an anonymous fetch.
public enum GitCredentialSettings {
    public static func credentials(for url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(SourceError) -> GitCredentials? {
        if url.hasPrefix("ssh://") || (url.contains("@") && !url.contains("://")) {
            guard let key = environment["RECLAW_GIT_SSH_KEY"], !key.isEmpty else { return nil }
            return .sshKey(username: environment["RECLAW_GIT_SSH_USER"] ?? "git", privateKeyPath: key,
                           publicKeyPath: environment["RECLAW_GIT_SSH_PUBLIC_KEY"], passphrase: environment["RECLAW_GIT_SSH_PASSPHRASE"])
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { return nil }
        if let token = environment["RECLAW_GIT_TOKEN"], !token.isEmpty {
            return .token(username: environment["RECLAW_GIT_USERNAME"] ?? "x-access-token", token: token)
        }
        if let file = environment["RECLAW_GIT_CREDENTIALS_FILE"], !file.isEmpty {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw SourceError("cannot read RECLAW_GIT_CREDENTIALS_FILE \(file): \((error as NSError).localizedDescription)")
            }
            let host = URLComponents(string: url)?.host
            for line in text.split(whereSeparator: \.isNewline) {
                guard let entry = URLComponents(string: String(line)), entry.host != nil, entry.host == host,
                      let user = entry.user, let password = entry.password else { continue }
                return .token(username: user.removingPercentEncoding ?? user, token: password.removingPercentEncoding ?? password)
            }
        }
        return nil
    }
}
