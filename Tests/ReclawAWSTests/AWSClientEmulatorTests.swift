import Foundation
import Logging
import ReclawJSON
import Testing
@testable import ReclawAWS
import ReclawTestSupport
import ReclawHTTP

/// Records every call attempt, as the audit trail will.
final class RecordingObserver: AWSCallObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var records: [AWSCallRecord] = []
    func record(_ call: AWSCallRecord) async { lock.withLock { records.append(call) } }
    var all: [AWSCallRecord] { lock.withLock { records } }
}

/// Retries, errors, request ids and connections, counted at the emulator, not inside reclaw.
@Suite struct AWSClientEmulatorTests {
    let emulator = Emulator.shared

    /// A caller of its own: its User-Agent names a unique deployment, so faults and request counts
    /// never mix with other tests sharing the emulator.
    struct Caller {
        let name = uniqueName("caller")
        var context: AWSCallContext { AWSCallContext(deployment: name) }
        var agent: String { "deployment/\(name)" }
    }

    func seen(_ operation: String, _ caller: Caller) async throws -> [[String: Any]] {
        try await emulator.requests(operation: operation, userAgent: caller.agent)
    }

    @Test func anOperationMissingFromTheListIsRefusedBeforeAnythingIsSent() async throws {
        let caller = Caller()
        await #expect {
            _ = try await emulator.client().query(.ec2, "DeleteKeyPair", region: "eu-south-1", ["KeyName": "ops"], context: caller.context)
        } throws: { error in
            let e = error as! AWSError
            return e.kind == .unlisted && e.code == "UnlistedOperation" && !RetryPolicy.isRetryable(e)
        }
        #expect(try await seen("DeleteKeyPair", caller).isEmpty)
        #expect(AWSOperations.contains(.dynamodb, "GetItem") && !AWSOperations.iamActions.contains("dynamodb:GetItem"))
    }

    @Test func throttlingOnTheNextNCallsIsRetriedAndSucceeds() async throws {
        let caller = Caller()
        try await emulator.injectError(userAgent: caller.agent, operation: "DescribeSubnets", code: "Throttling", count: 2)
        let ec2 = EC2Client(client: emulator.client(maxAttempts: 3), region: "eu-south-1", context: caller.context)
        _ = try await ec2.subnets([])
        let seen = try await seen("DescribeSubnets", caller)
        #expect(seen.map { $0["outcome"] as? String } == ["fault", "fault", "ok"])
    }

    @Test func aNonRetryableErrorIsTriedExactlyOnce() async throws {
        let caller = Caller()
        try await emulator.injectError(userAgent: caller.agent, operation: "DescribeVpcs", code: "UnauthorizedOperation", status: 403, count: 1)
        let ec2 = EC2Client(client: emulator.client(maxAttempts: 3), region: "eu-south-2", context: caller.context)
        await #expect {
            _ = try await ec2.vpcs([])
        } throws: { error in
            let e = error as! AWSError
            return e.code == "UnauthorizedOperation" && e.httpStatus == 403 && e.attempts == 1
        }
        #expect(try await seen("DescribeVpcs", caller).count == 1)
    }

    @Test func aDroppedConnectionIsRetried() async throws {
        let caller = Caller()
        try await emulator.injectDrop(userAgent: caller.agent, operation: "DescribeInternetGateways", count: 1)
        let ec2 = EC2Client(client: emulator.client(maxAttempts: 3), region: "me-south-1", context: caller.context)
        _ = try await ec2.internetGateways([])
        let seen = try await seen("DescribeInternetGateways", caller)
        #expect(seen.map { $0["outcome"] as? String } == ["dropped", "ok"])
    }

    @Test func persistentThrottlingStopsAtTheAttemptLimitWithTheLastError() async throws {
        let caller = Caller()
        try await emulator.injectError(userAgent: caller.agent, operation: "GetParameters", code: "ThrottlingException", count: 3)
        let ssm = SSMClient(client: emulator.client(maxAttempts: 3), region: "me-central-1", context: caller.context)
        await #expect {
            _ = try await ssm.parameters(["/x"])
        } throws: { error in
            let e = error as! AWSError
            return e.code == "ThrottlingException" && e.attempts == 3 && e.isThrottling
        }
        #expect(try await seen("GetParameters", caller).count == 3)
    }

    @Test func serverErrorsAreRetried() async throws {
        let caller = Caller()
        try await emulator.injectError(userAgent: caller.agent, operation: "ListInstanceProfiles", code: "ServiceUnavailable", status: 503, count: 1)
        let iam = IAMClient(client: emulator.client(maxAttempts: 3), context: caller.context)
        _ = try await iam.instanceProfiles(pathPrefix: "/nothing-here/")
        #expect(try await seen("ListInstanceProfiles", caller).map { $0["outcome"] as? String } == ["fault", "ok"])
    }

    @Test func errorsAreDecodedPerProtocolWithTheirRequestIDs() async throws {
        let client = emulator.client(maxAttempts: 1)
        await #expect {
            _ = try await EC2Client(client: client, region: "us-east-1").delete("DeleteVpc", "VpcId", "vpc-0000000000000dead")
        } throws: { error in
            let e = error as! AWSError
            return e.service == "ec2" && e.code == "InvalidVpcID.NotFound" && e.isNotFound && (e.requestID?.count ?? 0) > 10
        }
        await #expect {
            _ = try await SSMClient(client: client, region: "us-east-1").parameterValue("/no/such/param-\(UUID())")
        } throws: { error in
            let e = error as! AWSError
            return e.code == "ParameterNotFound" && e.httpStatus == 400 && e.requestID != nil && e.description.hasPrefix("ssm GetParameter failed: ParameterNotFound")
        }
        await #expect {
            _ = try await IAMClient(client: client).deleteRole("no-such-role-\(UUID().uuidString.prefix(6))")
        } throws: { ($0 as! AWSError).code == "NoSuchEntity" }
    }

    @Test func requestIDsComeFromTheResponseHeaderNotEC2sFixedBodyValue() async throws {
        let observer = RecordingObserver()
        let caller = Caller()
        _ = try await EC2Client(client: emulator.client(observer: observer), region: "ap-southeast-3", context: caller.context)
            .createVpc(cidr: "10.1.0.0/16", tags: ["reclaw:deployment": "rid"])
        let record = try #require(observer.all.first { $0.operation == "CreateVpc" })
        #expect(record.requestID != "request-id")
        #expect(try await seen("CreateVpc", caller).last?["requestID"] as? String == record.requestID)
        #expect(record.isMutating && record.responseText?.contains("vpc-") == true)
    }

    @Test func theUserAgentNamesTheDeploymentAndPlan() async throws {
        let name = uniqueName("ua")
        let context = AWSCallContext(deployment: name, planID: "9d1c6a3e")
        _ = try await EC2Client(client: emulator.client(), region: "ap-southeast-4", context: context).vpcs([])
        let seen = try await emulator.requests(operation: "DescribeVpcs", userAgent: "deployment/\(name);")
        #expect(seen.last?["userAgent"] as? String == "reclaw/0.1.0 (deployment/\(name); plan/9d1c6a3e)")
    }

    @Test func connectionsAreKeptAliveAcrossCalls() async throws {
        let caller = Caller()
        // A client of its own, so no concurrent test borrows its connection.
        let ec2 = EC2Client(client: emulator.client(http: HTTPClient()), region: "ap-northeast-3", context: caller.context)
        for _ in 0..<5 { _ = try await ec2.vpcs([]) }
        let ports = Set(try await seen("DescribeVpcs", caller).compactMap { $0["clientPort"] as? String })
        #expect(ports.count == 1)
    }

    @Test func describeCallsFollowNextToken() async throws {
        let region = "ca-west-1"
        let caller = Caller()
        let client = emulator.client()
        let image = try await emulator.currentAMI(region: region)
        let tag = uniqueName("page")
        for _ in 0..<7 {
            var p = QueryParams()
            p.add("ImageId", image)
            p.add("MinCount", 1)
            p.add("MaxCount", 1)
            p.addTagSpecification(["instance"], tags: ["reclaw:deployment": tag])
            _ = try await client.query(.ec2, "RunInstances", region: region, p)
        }
        var ec2 = EC2Client(client: client, region: region, context: caller.context)
        ec2.pageSize = 5
        let instances = try await ec2.instances([("tag:reclaw:deployment", [tag])])
        #expect(instances.count == 7)
        #expect(try await seen("DescribeInstances", caller).count == 2)
    }

    @Test func iamAuthorizationDetailsArePagedAndPoliciesDecoded() async throws {
        let client = emulator.client()
        let iam = IAMClient(client: client, pageSize: 2)
        let path = "/\(uniqueName("p"))/"
        let trust: JSONValue = ["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Principal": ["Service": "ec2.amazonaws.com"], "Action": "sts:AssumeRole"]]]
        for i in 0..<3 {
            try await iam.createRole(name: uniqueName("role\(i)"), path: path, trustPolicy: trust, description: "test", tags: ["k": "v"])
        }
        let roles = try await iam.roles(pathPrefix: path)
        #expect(roles.count == 3)
        #expect(roles.allSatisfy { $0.trustPolicy == trust && $0.tags == ["k": "v"] })
        let name = roles[0].name
        let policy: JSONValue = ["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Action": ["bedrock:InvokeModel"], "Resource": "*"]]]
        try await iam.putRolePolicy(role: name, name: "bedrock", policy)
        #expect(try await iam.roles(pathPrefix: path).first { $0.name == name }?.inlinePolicies["bedrock"] == policy)
    }

    @Test func dynamoDBConditionalWritesGuardALease() async throws {
        let table = uniqueName("leases")
        try await Command.check(["aws", "dynamodb", "create-table", "--table-name", table, "--attribute-definitions", "AttributeName=id,AttributeType=S",
                           "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST", "--endpoint-url", emulator.url, "--region", "us-east-1"],
                          environment: emulator.environment)
        let db = DynamoDBClient(client: emulator.client(), region: "us-east-1")
        let key: [String: JSONValue] = ["id": ["S": "reclaw"]]
        try await db.putItem(table: table, item: ["id": ["S": "reclaw"], "holder": ["S": "a"]], condition: "attribute_not_exists(id)")
        await #expect {
            try await db.putItem(table: table, item: ["id": ["S": "reclaw"], "holder": ["S": "b"]], condition: "attribute_not_exists(id)")
        } throws: { ($0 as! AWSError).code == "ConditionalCheckFailedException" }
        #expect(try await db.getItem(table: table, key: key)?["holder"] == ["S": "a"])
        try await db.deleteItem(table: table, key: key, condition: "holder = :me", values: [":me": ["S": "a"]])
        #expect(try await db.getItem(table: table, key: key) == nil)
    }
}

/// Signature checking against IAM users the emulator knows; on an emulator of its own, since
/// checking is global there.
@Suite(.serialized) struct SignatureCheckingTests {
    static let emulator = try! Emulator.start()

    static let user: (id: String, secret: String) = {
        let out = try! Command.check(["python3", "-c", """
        import boto3, json, sys
        iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        iam.create_user(UserName="reclaw-signer")
        iam.put_user_policy(UserName="reclaw-signer", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        k = iam.create_access_key(UserName="reclaw-signer")["AccessKey"]
        print(k["AccessKeyId"], k["SecretAccessKey"])
        """, emulator.url])
        let parts = out.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return (parts[0], parts[1])
    }()

    init() async throws {
        _ = Self.user
        try await Self.emulator.setSignatureChecking(true)
    }

    @Test func aCorrectKeyWorksForEveryProtocol() async throws {
        let client = Self.emulator.client(accessKey: Self.user.id, secret: Self.user.secret)
        _ = try await EC2Client(client: client, region: "us-east-1").vpcs([])
        _ = try await IAMClient(client: client).instanceProfiles(pathPrefix: "/")
        _ = try await SSMClient(client: client, region: "us-east-1").parameters(["/x"])
        let me = try await STS(client: client, region: "us-east-1").callerIdentity()
        #expect(me.arn == "arn:aws:iam::123456789012:user/reclaw-signer")
    }

    @Test func aWrongSecretFailsOnceWithAMessageNamingTheServiceAndCode() async throws {
        let client = Self.emulator.client(accessKey: Self.user.id, secret: "wrong-secret-value", maxAttempts: 3)
        await #expect {
            _ = try await EC2Client(client: client, region: "us-west-1").vpcs([])
        } throws: { error in
            let e = error as! AWSError
            return e.description.hasPrefix("ec2 DescribeVpcs failed: AuthFailure") && e.attempts == 1 && !e.description.contains("wrong-secret-value")
        }
        await #expect {
            _ = try await IAMClient(client: client).instanceProfiles(pathPrefix: "/")
        } throws: { ($0 as! AWSError).description.hasPrefix("iam ListInstanceProfiles failed: SignatureDoesNotMatch") }
        let attempts = try await Self.emulator.requests(service: "ec2", operation: "DescribeVpcs", region: "us-west-1")
        #expect(attempts.count == 1)
    }
}
