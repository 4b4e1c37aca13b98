import Crypto
import Foundation
import Logging
import ReclawAWS

/// The account each call of a deployment is made in, without asking AWS each time. A role's
/// account is part of its ARN. Other credentials' account is asked of STS GetCallerIdentity once
/// per access key (a key belongs to one account for its whole life) and kept in the state directory
/// by a digest of the key id, so a new process with the same credentials asks nothing.
actor AccountCache {
    let file: CacheFile<[String: String]>
    private var accounts: [String: String] = [:]
    private var loaded = false

    init(path: String? = nil, logger: Logger) {
        file = CacheFile(path: path, holding: "account ids", logger: logger)
    }

    func account(roleArn: String?, client: AWSClient, region: String) async throws(AWSError) -> String {
        if let roleArn, let account = Self.account(ofRole: roleArn) { return account }
        let key = Self.digest(try await client.credentials.credentials().accessKeyId)
        if !loaded {
            loaded = true
            accounts = file.read() ?? [:]
        }
        if let account = accounts[key] { return account }
        let account = try await STS(client: client, region: region).callerIdentity().account
        accounts[key] = account
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

    static func digest(_ accessKeyId: String) -> String {
        SHA256.hash(data: Data(accessKeyId.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
