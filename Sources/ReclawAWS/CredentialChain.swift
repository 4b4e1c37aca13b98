import Foundation
import Logging
import ReclawHTTP
import ReclawTime

/// The SDKs' default credential chain: environment variables, web identity, the shared config and
/// credentials files (with role_arn + source_profile), then the EC2 instance role through IMDSv2.
/// The first source that is configured is used; if it fails, the error says which source it was.
public actor CredentialChain: CredentialProvider {
    nonisolated public let name = "default chain"
    private let environment: AWSEnvironment
    private let http: HTTPClient
    private let stsClient: @Sendable (any CredentialProvider) -> AWSClient
    private var resolved: (any CredentialProvider)?

    /// `stsClient` builds the client used for STS calls with given credentials.
    public init(environment: AWSEnvironment = AWSEnvironment(), http: HTTPClient = .shared,
                stsClient: @escaping @Sendable (any CredentialProvider) -> AWSClient) {
        self.environment = environment
        self.http = http
        self.stsClient = stsClient
    }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        if let resolved { return try await resolved.credentials() }
        let provider = try choose()
        resolved = provider
        return try await provider.credentials()
    }

    /// Which source would be used, without calling it.
    public func sourceName() throws(AWSError) -> String { try choose().name }

    private func choose() throws(AWSError) -> any CredentialProvider {
        if let env = try Self.environmentCredentials(environment) { return StaticCredentialProvider(env) }
        if let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], let role = environment["AWS_ROLE_ARN"] {
            return webIdentity(tokenFile: tokenFile, roleArn: role, sessionName: environment["AWS_ROLE_SESSION_NAME"])
        }
        let files = AWSConfigFiles(environment: environment)
        let profile = environment.profileName
        if files.profiles[profile] != nil {
            return try self.profile(profile, files: files, visited: [])
        }
        if environment["AWS_PROFILE"] != nil {
            throw AWSError.credentials("profile '\(profile)' (AWS_PROFILE) is not in \(environment.configFile) or \(environment.credentialsFile)", code: "ProfileNotFound")
        }
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
            return instanceRole(lastResort: true)
        }
        throw Self.noCredentials
    }

    /// Nothing in the chain has credentials. The same error whether the instance metadata service
    /// is disabled, does not answer, or answers that there is no role: off EC2, all three mean the same.
    static let noCredentials = AWSError.credentials(
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or run on an instance with a role",
        code: "NoCredentials")

    static func environmentCredentials(_ environment: AWSEnvironment) throws(AWSError) -> AWSCredentials? {
        let id = environment["AWS_ACCESS_KEY_ID"], secret = environment["AWS_SECRET_ACCESS_KEY"]
        switch (id, secret) {
        case let (id?, secret?):
            return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"], source: "environment")
        case (nil, nil):
            return nil
        default:
            throw AWSError.credentials("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together", code: "PartialCredentials")
        }
    }

    private func profile(_ name: String, files: AWSConfigFiles, visited: Set<String>) throws(AWSError) -> any CredentialProvider {
        guard let settings = files.profiles[name] else {
            throw AWSError.credentials("profile '\(name)' is not in \(environment.configFile) or \(environment.credentialsFile)", code: "ProfileNotFound")
        }
        guard !visited.contains(name) else {
            throw AWSError.credentials("profiles form a source_profile loop through '\(name)'", code: "ProfileLoop")
        }
        if let role = settings["role_arn"] {
            let base: any CredentialProvider
            if let source = settings["source_profile"] {
                if source == name, let id = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"] {
                    base = StaticCredentialProvider(AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: settings["aws_session_token"], source: "profile \(name)"))
                } else {
                    base = try profile(source, files: files, visited: visited.union([name]))
                }
            } else if let tokenFile = settings["web_identity_token_file"] {
                return webIdentity(tokenFile: tokenFile, roleArn: role, sessionName: settings["role_session_name"])
            } else if let source = settings["credential_source"] {
                switch source {
                case "Environment":
                    guard let env = try Self.environmentCredentials(environment) else {
                        throw AWSError.credentials("profile '\(name)' uses credential_source Environment but AWS_ACCESS_KEY_ID is not set")
                    }
                    base = StaticCredentialProvider(env)
                case "Ec2InstanceMetadata":
                    base = instanceRole()
                default:
                    throw AWSError.credentials("profile '\(name)': credential_source '\(source)' is not supported (Environment, Ec2InstanceMetadata)")
                }
            } else {
                throw AWSError.credentials("profile '\(name)' has role_arn but no source_profile, credential_source or web_identity_token_file")
            }
            let session = settings["role_session_name"] ?? "reclaw-\(Int(Clocks.date().timeIntervalSince1970))"
            let externalID = settings["external_id"]
            let duration = settings["duration_seconds"].flatMap(Int.init) ?? 3600
            let region = settings["region"] ?? environment.region ?? "us-east-1"
            let client = stsClient(base)
            return CachedCredentialProvider(name: "profile \(name) (role \(role))") { () async throws(AWSError) -> AWSCredentials in
                try await STS(client: client, region: region).assumeRole(roleArn: role, sessionName: session, externalID: externalID, durationSeconds: duration)
            }
        }
        if let id = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"] {
            return StaticCredentialProvider(AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: settings["aws_session_token"], source: "profile \(name)"))
        }
        throw AWSError.credentials("profile '\(name)' has neither keys nor a role to assume", code: "ProfileIncomplete")
    }

    private func webIdentity(tokenFile: String, roleArn: String, sessionName: String?) -> any CredentialProvider {
        let client = stsClient(StaticCredentialProvider(AWSCredentials(accessKeyId: "", secretAccessKey: "", source: "anonymous")))
        let region = environment.region ?? "us-east-1"
        let session = sessionName ?? "reclaw-\(Int(Clocks.date().timeIntervalSince1970))"
        return CachedCredentialProvider(name: "web identity (\(roleArn))") { () async throws(AWSError) -> AWSCredentials in
            // The token file is re-read on every refresh: Kubernetes rotates it.
            guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                throw AWSError.credentials("cannot read the web identity token file \(tokenFile)", code: "WebIdentityTokenUnreadable")
            }
            return try await STS(client: client, region: region).assumeRoleWithWebIdentity(roleArn: roleArn, sessionName: session, token: token)
        }
    }

    /// The instance role. As the chain's `lastResort`, an instance metadata service that cannot be
    /// reached, refuses, or has no role means there are no credentials at all (`noCredentials`);
    /// named by a profile's `credential_source`, its own error says what went wrong.
    private func instanceRole(lastResort: Bool = false) -> any CredentialProvider {
        let imds = IMDSCredentialProvider(endpoint: environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254", http: http,
                                          timeout: environment["AWS_METADATA_SERVICE_TIMEOUT"].flatMap(Double.init) ?? 1,
                                          attempts: environment["AWS_METADATA_SERVICE_NUM_ATTEMPTS"].flatMap(Int.init) ?? 1)
        return CachedCredentialProvider(name: "instance role (IMDSv2)") { () async throws(AWSError) -> AWSCredentials in
            do throws(AWSError) {
                return try await imds.fetch()
            } catch {
                if lastResort && ["IMDSUnreachable", "IMDSError", "NoInstanceRole"].contains(error.code) { throw Self.noCredentials }
                throw error
            }
        }
    }
}

/// The EC2 instance role through IMDSv2: a session token first (PUT), then the role's credentials.
/// Timeout and attempts follow the SDKs' AWS_METADATA_SERVICE_TIMEOUT and _NUM_ATTEMPTS (1 s, 1).
public struct IMDSCredentialProvider: Sendable {
    public let endpoint: String
    let http: HTTPClient
    let timeout: Double
    let attempts: Int

    public init(endpoint: String, http: HTTPClient = .shared, timeout: Double = 1, attempts: Int = 1) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.http = http
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    public func fetch() async throws(AWSError) -> AWSCredentials {
        let token = try await call("PUT", "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], token: nil)
        let roles = try await call("GET", "/latest/meta-data/iam/security-credentials/", headers: [], token: token)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw AWSError.credentials("the instance has no IAM role (IMDS lists none)", code: "NoInstanceRole")
        }
        let document = try await call("GET", "/latest/meta-data/iam/security-credentials/\(role)", headers: [], token: token)
        guard let json = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
              let id = json["AccessKeyId"] as? String, let secret = json["SecretAccessKey"] as? String else {
            throw AWSError.credentials("IMDS returned no credentials for role \(role)", code: "InstanceRoleUnreadable")
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: json["Token"] as? String,
                              expiration: (json["Expiration"] as? String).flatMap(ISO8601.parse), source: "instance role \(role)")
    }

    private func call(_ method: String, _ path: String, headers: [(String, String)], token: String?) async throws(AWSError) -> String {
        var h = headers.map { (name: $0.0, value: $0.1) }
        if let token { h.append(("X-aws-ec2-metadata-token", token)) }
        var response: HTTPResponse?
        var lastError = ""
        for _ in 0..<attempts where response == nil {
            do {
                response = try await http.send(HTTPRequest(method: method, url: endpoint + path, headers: h,
                                                           connectTimeout: .milliseconds(Int(timeout * 1000)), timeout: .milliseconds(Int(timeout * 2000))))
            } catch {
                lastError = error.message
            }
        }
        guard let response else {
            throw AWSError.credentials("the instance metadata service at \(endpoint) cannot be reached: \(lastError)", code: "IMDSUnreachable")
        }
        guard response.status == 200 else {
            throw AWSError.credentials("the instance metadata service answered HTTP \(response.status) for \(path)", code: "IMDSError")
        }
        return response.bodyText
    }
}
