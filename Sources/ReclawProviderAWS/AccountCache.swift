import ReclawAWS

/// Account ids by credentials, looked up once with STS GetCallerIdentity.
actor AccountCache {
    private var accounts: [String: String] = [:]

    func account(for key: String, client: AWSClient, region: String) async throws(AWSError) -> String {
        if let a = accounts[key] { return a }
        let a = try await STS(client: client, region: region).callerIdentity().account
        accounts[key] = a
        return a
    }
}
