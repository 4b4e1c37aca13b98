import Foundation
import ReclawGit
import ReclawSpec

/// Why a SOURCE cannot be a source at all, found at start-up before anything is written: a local
/// directory that is not there, or a URL reclaw cannot fetch from. A remote that does not answer
/// is not this: it is retried.
public struct SourceCheckError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No file or directory at the local path.
        case noSuchDirectory
        /// The local path is a file, not a directory.
        case notADirectory
        /// The URL's scheme is not one git fetches from here.
        case unsupportedScheme
        /// The URL does not parse, or names no host.
        case malformedURL
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension SourceLocation {
    /// The schemes of the git URLs reclaw fetches.
    public static let schemes = ["file", "git", "http", "https", "ssh"]

    /// `text` as a source, checked without contacting any remote: a local directory must exist,
    /// a URL must parse with one of `schemes` and (but for file://) a host; a file:// URL must
    /// name an existing directory.
    public static func checked(_ text: String) throws(SourceCheckError) -> SourceLocation {
        let location = SourceLocation(text)
        let accepted = "a source is a local directory or a git URL (file://, git://, http(s)://, ssh://)"
        switch location {
        case .git(let url):
            let shown = SafeText.quoted(GitRepository.redacted(url), limit: 200)
            guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else {
                throw SourceCheckError(.malformedURL, "\(shown) is not a URL reclaw can parse; \(accepted)")
            }
            guard schemes.contains(scheme) else {
                throw SourceCheckError(.unsupportedScheme, "\(shown): \(scheme):// is not supported; \(accepted)")
            }
            if scheme == "file" {
                guard !parts.path.isEmpty else { throw SourceCheckError(.malformedURL, "\(shown) names no path; \(accepted)") }
                try directory(parts.path, shown: shown, accepted: accepted)
            } else if (parts.host ?? "").isEmpty {
                throw SourceCheckError(.malformedURL, "\(shown) names no host; \(accepted)")
            }
        case .directory(let path):
            let shown = SafeText.quoted(path, limit: 200)
            var hint = accepted
            if let at = path.firstIndex(of: "@"), let colon = path[at...].firstIndex(of: ":"), !path[..<colon].contains("/") {
                // user@host:repo.git, git's scp-like form.
                hint = "write an SSH remote as ssh://\(path[..<colon])/\(path[path.index(after: colon)...]); " + accepted
            }
            try directory(path, shown: shown, accepted: hint)
        }
        return location
    }

    private static func directory(_ path: String, shown: String, accepted: String) throws(SourceCheckError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SourceCheckError(.noSuchDirectory, "\(shown): no such directory; \(accepted)")
        }
        guard isDirectory.boolValue else {
            throw SourceCheckError(.notADirectory, "\(shown) is a file, not a directory; \(accepted)")
        }
    }
}
