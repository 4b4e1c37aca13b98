import Foundation

/// The STS calls reclaw makes: who am I, and assuming roles.
public struct STS: Sendable {
    public let client: AWSClient
    public let region: String

    public init(client: AWSClient, region: String) {
        self.client = client
        self.region = region
    }

    /// The caller's account, ARN and user id.
    public func callerIdentity(context: AWSCallContext = AWSCallContext()) async throws(AWSError) -> (account: String, arn: String, userID: String) {
        let r = try await client.query(.sts, "GetCallerIdentity", region: region, context: context)
        let result = r.child("GetCallerIdentityResult")
        let account = try r.required(["GetCallerIdentityResult", "Account"], service: AWSService.sts.rawValue, operation: "GetCallerIdentity", region: region)
        return (account, result?.string("Arn") ?? "", result?.string("UserId") ?? "")
    }

    /// Credentials for `roleArn`, with a session name and source identity CloudTrail will show.
    public func assumeRole(roleArn: String, sessionName: String, sourceIdentity: String? = nil, externalID: String? = nil,
                           durationSeconds: Int = 3600, context: AWSCallContext = AWSCallContext()) async throws(AWSError) -> AWSCredentials {
        var p = QueryParams()
        p.add("RoleArn", roleArn)
        p.add("RoleSessionName", sessionName)
        p.add("DurationSeconds", durationSeconds)
        p.add("SourceIdentity", sourceIdentity)
        p.add("ExternalId", externalID)
        let r = try await client.query(.sts, "AssumeRole", region: region, p, context: context)
        return try Self.credentials(r.at("AssumeRoleResult", "Credentials"), source: "assumed role \(roleArn)", operation: "AssumeRole", region: region)
    }

    /// Credentials for `roleArn` in exchange for an OIDC token (an unsigned call).
    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, token: String) async throws(AWSError) -> AWSCredentials {
        var p = QueryParams()
        p.add("RoleArn", roleArn)
        p.add("RoleSessionName", sessionName)
        p.add("WebIdentityToken", token)
        let r = try await client.query(.sts, "AssumeRoleWithWebIdentity", region: region, p)
        return try Self.credentials(r.at("AssumeRoleWithWebIdentityResult", "Credentials"), source: "web identity \(roleArn)",
                                    operation: "AssumeRoleWithWebIdentity", region: region)
    }

    static func credentials(_ c: XMLElement?, source: String, operation: String, region: String) throws(AWSError) -> AWSCredentials {
        guard let c, let id = c.string("AccessKeyId"), let secret = c.string("SecretAccessKey") else {
            throw AWSError(kind: .decoding, code: "MalformedResponse", message: "no credentials in the answer", service: "sts", operation: operation, region: region)
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: c.string("SessionToken"),
                              expiration: c.string("Expiration").flatMap(ISO8601.parse), source: source)
    }
}

/// ISO 8601 timestamps as AWS writes them (with or without fractional seconds).
public enum ISO8601 {
    public static func parse(_ s: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: s) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: s)
    }

    /// `2026-11-25T01:02:03.456Z`.
    public static func format(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}
