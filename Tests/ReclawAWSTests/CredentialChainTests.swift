import Foundation
import Logging
import Synchronization
import Testing
@testable import ReclawAWS
import ReclawTestSupport

@Suite struct CredentialChainTests {
    let emulator = Emulator.shared

    func chain(_ variables: [String: String], home: String = "/nonexistent") -> CredentialChain {
        var env = variables
        env["AWS_ENDPOINT_URL"] = emulator.url
        let environment = AWSEnvironment(variables: env, homeDirectory: home)
        return CredentialChain(environment: environment) { creds in
            AWSClient(credentials: creds, environment: environment, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
        }
    }

    @Test func environmentVariablesComeFirst() async throws {
        let dir = TemporaryDirectory()
        dir.write("credentials", "[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = s\n")
        let c = try await chain(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "tok",
                                 "AWS_SHARED_CREDENTIALS_FILE": dir.file("credentials")]).credentials()
        #expect(c.accessKeyId == "AKIDENV" && c.sessionToken == "tok" && c.source == "environment")
    }

    @Test func aKeyWithoutASecretIsAnError() async {
        await #expect { _ = try await chain(["AWS_ACCESS_KEY_ID": "AKIDENV"]).credentials() } throws: { ($0 as! AWSError).code == "PartialCredentials" }
    }

    @Test func profilesComeFromTheConfigAndCredentialsFiles() async throws {
        let dir = TemporaryDirectory()
        dir.write("config", "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1 # Ireland\ns3 =\n  max_concurrent_requests = 2\n")
        dir.write("credentials", "# keys\n[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\n")
        let env = ["AWS_PROFILE": "dev", "AWS_CONFIG_FILE": dir.file("config"), "AWS_SHARED_CREDENTIALS_FILE": dir.file("credentials")]
        let c = try await chain(env).credentials()
        #expect(c.accessKeyId == "AKIDDEV" && c.source == "profile dev")
        let files = AWSConfigFiles(environment: AWSEnvironment(variables: env, homeDirectory: "/x"))
        #expect(files.profiles["dev"]?["region"] == "eu-west-1")
        #expect(files.profiles["dev"]?["max_concurrent_requests"] == nil)
    }

    @Test func aNamedProfileThatDoesNotExistIsAnError() async {
        await #expect {
            _ = try await chain(["AWS_PROFILE": "ghost", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"]).credentials()
        } throws: { ($0 as! AWSError).code == "ProfileNotFound" }
    }

    @Test func roleArnWithSourceProfileAssumesTheRoleThroughSTS() async throws {
        let dir = TemporaryDirectory()
        let role = uniqueName("deployer")
        try await IAMClient(client: emulator.client()).createRole(name: role, path: "/", trustPolicy: ["Version": "2012-10-17", "Statement": []], description: "t", tags: [:])
        dir.write("config", "[profile base]\nregion = us-east-1\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/\(role)\nsource_profile = base\nrole_session_name = ops-session\n")
        dir.write("credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = basesecret\n")
        let c = try await chain(["AWS_PROFILE": "ops", "AWS_CONFIG_FILE": dir.file("config"), "AWS_SHARED_CREDENTIALS_FILE": dir.file("credentials")]).credentials()
        #expect(c.accessKeyId.hasPrefix("ASIA"))
        #expect(c.sessionToken != nil && c.expiration != nil)
        #expect(c.source.contains(role))
        let calls = try await emulator.requests(service: "sts", operation: "AssumeRole")
        #expect(calls.contains { $0["accessKeyId"] as? String == "AKIDBASE" })
    }

    @Test func sourceProfileLoopsAreRefused() async {
        let dir = TemporaryDirectory()
        dir.write("config", "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/y\nsource_profile = a\n")
        await #expect {
            _ = try await chain(["AWS_PROFILE": "a", "AWS_CONFIG_FILE": dir.file("config"), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"]).credentials()
        } throws: { ($0 as! AWSError).code == "ProfileLoop" }
    }

    @Test func webIdentityExchangesTheTokenFileWithAnUnsignedCall() async throws {
        let dir = TemporaryDirectory()
        dir.write("token", "eyJhbGciOiJSUzI1NiJ9.test-oidc-token.sig\n")
        let role = uniqueName("irsa")
        try await IAMClient(client: emulator.client()).createRole(name: role, path: "/", trustPolicy: ["Version": "2012-10-17", "Statement": []], description: "t", tags: [:])
        let c = try await chain(["AWS_WEB_IDENTITY_TOKEN_FILE": dir.file("token"), "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/\(role)",
                                 "AWS_REGION": "us-east-1"]).credentials()
        #expect(c.source.hasPrefix("web identity"))
        #expect(c.sessionToken != nil)
        let calls = try await emulator.requests(service: "sts", operation: "AssumeRoleWithWebIdentity")
        #expect(!calls.isEmpty)
    }

    @Test func theInstanceRoleIsReadThroughIMDSv2() async throws {
        let c = try await chain(["AWS_EC2_METADATA_SERVICE_ENDPOINT": emulator.url, "AWS_METADATA_SERVICE_TIMEOUT": "10",
                                 "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"]).credentials()
        #expect(c.source == "instance role default-role")
        #expect(c.accessKeyId == "test-key" && c.sessionToken == "test-session-token")
        let imds = try await emulator.requests(service: "imds")
        let tokenPut = try #require(imds.lastIndex { $0["operation"] as? String == "PUT /latest/api/token" && $0["outcome"] as? String == "ok" })
        let read = try #require(imds.lastIndex { ($0["operation"] as? String)?.hasPrefix("GET /latest/meta-data/iam/security-credentials/default-role") == true })
        #expect(tokenPut < read && imds[read]["outcome"] as? String == "ok")
    }

    @Test func withNothingConfiguredTheErrorSaysWhatToSet() async {
        await #expect {
            _ = try await chain(["AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"]).credentials()
        } throws: { error in
            let e = error as! AWSError
            return e.code == "NoCredentials" && e.message.contains("AWS_ACCESS_KEY_ID")
        }
    }

    @Test func theNoCredentialsErrorIsTheSameWhetherOrNotTheMetadataServiceAnswers() async throws {
        let answering = try EchoServer()
        let files = ["AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_METADATA_SERVICE_TIMEOUT": "2"]
        var errors: [String] = []
        for extra in [["AWS_EC2_METADATA_DISABLED": "true"],
                      ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"],
                      ["AWS_EC2_METADATA_SERVICE_ENDPOINT": answering.url + "/status/404"]] {
            do {
                _ = try await chain(files.merging(extra) { $1 }).credentials()
                Issue.record("credentials were found with \(extra)")
            } catch {
                errors.append("\(error)")
            }
        }
        #expect(errors.count == 3 && Set(errors).count == 1, "\(errors)")
        #expect(errors.first?.contains("NoCredentials: no AWS credentials found") == true)
    }

    @Test func temporaryCredentialsAreCachedAndRefreshedBeforeTheyExpire() async throws {
        let fetches = Mutex(0)
        let longLived = CachedCredentialProvider(name: "t") { () async throws(AWSError) -> AWSCredentials in
            fetches.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(50))
            return AWSCredentials(accessKeyId: "A", secretAccessKey: "s", expiration: Date().addingTimeInterval(3600))
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<10 { group.addTask { _ = try? await longLived.credentials() } }
        }
        _ = try await longLived.credentials()
        #expect(fetches.withLock { $0 } == 1)
        let refreshed = Mutex(0)
        let expiring = CachedCredentialProvider(name: "t") { () async throws(AWSError) -> AWSCredentials in
            refreshed.withLock { $0 += 1 }
            return AWSCredentials(accessKeyId: "A", secretAccessKey: "s", expiration: Date().addingTimeInterval(120))
        }
        _ = try await expiring.credentials()
        _ = try await expiring.credentials()
        #expect(refreshed.withLock { $0 } == 2)
    }

    @Test func anAssumedDeploymentRoleCarriesItsSessionNameAndSourceIdentityIntoCloudTrail() async throws {
        let region = "af-south-1"
        let role = uniqueName("deploy")
        let client = emulator.client()
        try await IAMClient(client: client).createRole(name: role, path: "/", trustPolicy: ["Version": "2012-10-17", "Statement": []], description: "t", tags: [:])
        let session = "reclaw-3f2a9c1d"
        let creds = try await STS(client: client, region: region).assumeRole(roleArn: "arn:aws:iam::123456789012:role/\(role)", sessionName: session, sourceIdentity: "reclaw")
        let vpc = try await EC2Client(client: client.with(credentials: StaticCredentialProvider(creds)), region: region).createVpc(cidr: "10.0.0.0/16", tags: [:])
        let events = try await CloudTrailClient(client: client, region: region).lookup(attribute: ("ResourceName", vpc), start: Date().addingTimeInterval(-60))
        let identity = try #require(events.first?.record["userIdentity"])
        #expect(identity["arn"]?.stringValue?.hasSuffix("assumed-role/\(role)/\(session)") == true)
        #expect(identity["sessionContext"]?["sourceIdentity"]?.stringValue == "reclaw")
    }
}

/// Captures every log line at trace level, message and metadata together.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    static let lines = Mutex<[String]>([])
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let line = "\(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })"
        Self.lines.withLock { $0.append(line) }
    }
}

@Suite struct SecretHygieneTests {
    @Test func noSecretReachesALogAnErrorOrTheAuditRecordAtTheMostVerboseLevel() async throws {
        let emulator = Emulator.shared
        let secret = "S3CR3T-\(UUID().uuidString)"
        let value = "gateway-token-\(UUID().uuidString)"
        var logger = Logger(label: "secret-test") { _ in CapturingLogHandler() }
        logger.logLevel = .trace
        let observer = RecordingObserver()
        let client = emulator.client(secret: secret, observer: observer, logger: logger)
        let region = "eu-north-1"
        let ssm = SSMClient(client: client, region: region)
        let name = "/openclaw/\(uniqueName("sec"))/gateway-token"
        _ = try await ssm.putParameter(name: name, value: value, type: "SecureString", overwrite: false, tags: ["reclaw:deployment": "x"])
        let stored = try await ssm.parameters([name])
        #expect(stored.first?.value == nil)
        let role = uniqueName("hyg")
        try await IAMClient(client: client).createRole(name: role, path: "/", trustPolicy: ["Version": "2012-10-17", "Statement": []], description: "t", tags: [:])
        let assumed = try await STS(client: client, region: region).assumeRole(roleArn: "arn:aws:iam::123456789012:role/\(role)", sessionName: "reclaw-x")
        let context = AWSCallContext(deployment: uniqueName("hygiene"))
        try await emulator.injectError(userAgent: "deployment/\(context.deployment!)", operation: "DescribeVpcs", code: "AuthFailure", status: 401, count: 1)
        var errorText = ""
        do { _ = try await EC2Client(client: client, region: region, context: context).vpcs([]) } catch { errorText = "\(error) \(String(reflecting: error))" }
        #expect(!errorText.isEmpty)
        let everything = CapturingLogHandler.lines.withLock { $0.joined(separator: "\n") } + errorText
            + observer.all.map { "\($0.requestParameters) \($0.responseText ?? "")" }.joined() + "\(assumed)" + String(reflecting: assumed)
        #expect(!CapturingLogHandler.lines.withLock { $0.isEmpty })
        for s in [secret, value, assumed.secretAccessKey, assumed.sessionToken ?? "-"] {
            #expect(!everything.contains(s), "a secret leaked")
        }
    }
}
