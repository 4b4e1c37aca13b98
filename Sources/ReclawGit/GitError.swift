internal import CGit2

/// A libgit2 failure, keeping the library's own message and error class.
public struct GitError: Error, Sendable, CustomStringConvertible {
    /// libgit2's return code (GIT_ENOTFOUND, GIT_EAUTH, ...).
    public var code: Int32
    /// libgit2's error class (GIT_ERROR_NET, GIT_ERROR_SSH, ...).
    public var errorClass: Int32
    /// What reclaw was doing.
    public var operation: String
    /// libgit2's message.
    public var message: String
    /// The operation was stopped at its deadline (`GitFetchLimits`).
    public var timedOut: Bool

    public init(code: Int32, errorClass: Int32, operation: String, message: String, timedOut: Bool = false) {
        self.code = code
        self.errorClass = errorClass
        self.operation = operation
        self.message = message
        self.timedOut = timedOut
    }

    /// The object, reference or path does not exist.
    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }

    public var description: String { "\(operation): \(message)" }

    /// Reads libgit2's last error for a failed call.
    static func last(_ code: Int32, _ operation: String) -> GitError {
        if let e = git_error_last() {
            return GitError(code: code, errorClass: e.pointee.klass, operation: operation, message: String(cString: e.pointee.message))
        }
        return GitError(code: code, errorClass: 0, operation: operation, message: "libgit2 error \(code)")
    }
}

/// Throws the last libgit2 error when a call returned a negative code.
@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(GitError) {
    if code < 0 { throw GitError.last(code, operation()) }
}

/// libgit2 must be initialized once per process before use.
enum GitLibrary {
    private static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    static func ensureInitialized() { _ = initialized }
}

/// Facts about the linked libgit2.
public enum GitLibraryInfo {
    /// libgit2's version, as `git_libgit2_version` reports it.
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
        git_libgit2_version(&major, &minor, &rev)
        return "\(major).\(minor).\(rev)"
    }
}
