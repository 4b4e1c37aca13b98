import Foundation

/// The process environment and home directory AWS settings are read from, injectable for tests.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]
    public var homeDirectory: String

    public init(variables: [String: String] = ProcessInfo.processInfo.environment,
                homeDirectory: String = FileManager.default.homeDirectoryForCurrentUser.path) {
        self.variables = variables
        self.homeDirectory = homeDirectory
    }

    public subscript(_ name: String) -> String? {
        guard let v = variables[name], !v.isEmpty else { return nil }
        return v
    }

    /// AWS_REGION, then AWS_DEFAULT_REGION.
    public var region: String? { self["AWS_REGION"] ?? self["AWS_DEFAULT_REGION"] }

    public var profileName: String { self["AWS_PROFILE"] ?? self["AWS_DEFAULT_PROFILE"] ?? "default" }

    public var configFile: String { self["AWS_CONFIG_FILE"] ?? homeDirectory + "/.aws/config" }

    public var credentialsFile: String { self["AWS_SHARED_CREDENTIALS_FILE"] ?? homeDirectory + "/.aws/credentials" }
}
