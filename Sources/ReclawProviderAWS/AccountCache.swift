import Crypto
import Foundation
import Logging
import ReclawAWS
import ReclawTime

/// The account each call of a deployment is made in, without asking AWS each time. A role's
/// account is part of its ARN. Other credentials' account is asked of STS GetCallerIdentity once
/// per access key (a key belongs to one account for its whole life) and kept in the state directory
/// by a digest of the key id and the STS endpoint (the same dummy key against an emulator and AWS
/// is two keys), so a new process with the same credentials asks nothing. Credentials that rotate
/// add an entry each: the `limit` learned last are kept.
actor AccountCache {
    struct Learned: Codable {
        var account: String
        var at: Date
    }

    let limit = 64
    let file: CacheFile<[String: Learned]>
    private var accounts: [String: Learned] = [:]
    private var loaded = false

    init(path: String? = nil, logger: Logger) {
        file = CacheFile(path: path, holding: "account ids", logger: logger)
    }

    func account(roleArn: String?, client: AWSClient, region: String) async throws(AWSError) -> String {
        if let roleArn, let account = Self.account(ofRole: roleArn) { return account }
        let endpoint = AWSEndpoint.resolve(.sts, region: region, environment: client.environment).url
        let key = Self.digest(endpoint + " " + (try await client.credentials.credentials().accessKeyId))
        if !loaded {
            loaded = true
            accounts = file.read() ?? [:]
        }
        if let learned = accounts[key] { return learned.account }
        let account = try await STS(client: client, region: region).callerIdentity().account
        accounts[key] = Learned(account: account, at: Clocks.date())
        accounts.keepNewest(limit) { $0.at }
        file.write(accounts)
        return account
    }

    /// The twelve digits of `arn:PARTITION:iam::ACCOUNT:role/…`; nil for anything else.
    static func account(ofRole arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 6, parts[0] == "arn", parts[2] == "iam", parts[4].count == 12, parts[4].allSatisfy(\.isNumber),
              parts[5].hasPrefix("role/") else { return nil }
        return String(parts[4])
    }

    static func digest(_ credentials: String) -> String {
        SHA256.hash(data: Data(credentials.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
