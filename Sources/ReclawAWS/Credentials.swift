import Foundation
import ReclawTime

/// AWS credentials. The secret and token never appear in `description`, logs or errors.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working.
    public var expiration: Date?
    /// Where they came from ("environment", "profile default", "web identity", "instance role", "assumed role …").
    public var source: String

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil, source: String = "static") {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(accessKeyId), secretAccessKey: ***, sessionToken: \(sessionToken == nil ? "none" : "***"), source: \(source))"
    }

    public var debugDescription: String { description }

    /// Whether they expire within `margin`.
    public func expires(within margin: TimeInterval, now: Date = Clocks.date()) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) < margin
    }
}

/// Something that can produce credentials: the environment, a profile, a role, the instance.
public protocol CredentialProvider: Sendable {
    /// Current credentials; providers of temporary credentials refresh them before they expire.
    func credentials() async throws(AWSError) -> AWSCredentials
    /// A short name for messages ("environment", "profile dev", ...).
    var name: String { get }
}

/// Fixed credentials (tests, and credentials read once from a file).
public struct StaticCredentialProvider: CredentialProvider {
    public let value: AWSCredentials
    public var name: String { value.source }

    public init(_ value: AWSCredentials) { self.value = value }

    public func credentials() async throws(AWSError) -> AWSCredentials { value }
}
