import Foundation
import Testing
@testable import ReclawAWS

@Suite struct EndpointTests {
    let none = AWSEnvironment(variables: [:], homeDirectory: "/tmp")

    @Test func regionalServicesUseTheirRegionsEndpoint() {
        #expect(AWSEndpoint.resolve(.ec2, region: "eu-west-1", environment: none) == AWSEndpoint(url: "https://ec2.eu-west-1.amazonaws.com", signingRegion: "eu-west-1"))
        #expect(AWSEndpoint.resolve(.ssm, region: "cn-north-1", environment: none).url == "https://ssm.cn-north-1.amazonaws.com.cn")
        #expect(AWSEndpoint.resolve(.sts, region: "ap-south-1", environment: none).url == "https://sts.ap-south-1.amazonaws.com")
    }

    @Test func iamIsGlobalAndSignedForThePartitionsHomeRegion() {
        #expect(AWSEndpoint.resolve(.iam, region: "eu-west-1", environment: none) == AWSEndpoint(url: "https://iam.amazonaws.com", signingRegion: "us-east-1"))
        #expect(AWSEndpoint.resolve(.iam, region: "us-gov-east-1", environment: none).signingRegion == "us-gov-west-1")
        #expect(AWSEndpoint.resolve(.iam, region: "cn-northwest-1", environment: none).url == "https://iam.cn-north-1.amazonaws.com.cn")
    }

    @Test func serviceSpecificOverridesWinOverTheGlobalOne() {
        let env = AWSEnvironment(variables: ["AWS_ENDPOINT_URL": "http://127.0.0.1:5000/", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:6000",
                                             "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API": "http://127.0.0.1:7000"], homeDirectory: "/tmp")
        #expect(AWSEndpoint.resolve(.ec2, region: "us-west-2", environment: env) == AWSEndpoint(url: "http://127.0.0.1:5000", signingRegion: "us-west-2"))
        #expect(AWSEndpoint.resolve(.ssm, region: "us-west-2", environment: env).url == "http://127.0.0.1:6000")
        #expect(AWSEndpoint.resolve(.tagging, region: "us-west-2", environment: env).url == "http://127.0.0.1:7000")
        #expect(AWSEndpoint.resolve(.iam, region: "us-west-2", environment: env).signingRegion == "us-east-1")
    }

    @Test func sqsAndEventBridgeAreRegionalJSONServicesWithTheirOwnOverrides() {
        #expect(AWSEndpoint.resolve(.sqs, region: "eu-west-1", environment: none) == AWSEndpoint(url: "https://sqs.eu-west-1.amazonaws.com", signingRegion: "eu-west-1"))
        #expect(AWSEndpoint.resolve(.events, region: "eu-west-1", environment: none) == AWSEndpoint(url: "https://events.eu-west-1.amazonaws.com", signingRegion: "eu-west-1"))
        let env = AWSEnvironment(variables: ["AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:6001", "AWS_ENDPOINT_URL_EVENTBRIDGE": "http://127.0.0.1:6002"],
                                 homeDirectory: "/tmp")
        #expect(AWSEndpoint.resolve(.sqs, region: "eu-west-1", environment: env).url == "http://127.0.0.1:6001")
        #expect(AWSEndpoint.resolve(.events, region: "eu-west-1", environment: env).url == "http://127.0.0.1:6002")
        #expect(AWSService.sqs.signingName == "sqs" && AWSService.events.signingName == "events")
        guard case .json("AmazonSQS", "1.0") = AWSService.sqs.wireProtocol, case .json("AWSEvents", "1.1") = AWSService.events.wireProtocol else {
            Issue.record("SQS speaks JSON 1.0 (AmazonSQS.*), EventBridge JSON 1.1 (AWSEvents.*)")
            return
        }
        #expect(AWSService.events.eventSource == "events.amazonaws.com")
    }
}

@Suite struct RetryPolicyTests {
    func error(_ code: String, status: Int? = 400, kind: AWSError.Kind = .service) -> AWSError {
        AWSError(kind: kind, code: code, message: "", httpStatus: status, service: "ec2", operation: "X")
    }

    @Test func throttlingServerFaultsAndBrokenConnectionsAreRetried() {
        for code in ["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled"] {
            #expect(RetryPolicy.isRetryable(error(code)), "\(code)")
        }
        for status in [500, 502, 503, 504] { #expect(RetryPolicy.isRetryable(error("Whatever", status: status))) }
        #expect(RetryPolicy.isRetryable(error("ConnectionError", status: nil, kind: .transport)))
        #expect(RetryPolicy.isRetryable(error("RequestTimeout", status: nil, kind: .transport)))
    }

    @Test func clientErrorsAreNeverRetried() {
        for code in ["AccessDenied", "UnauthorizedOperation", "ValidationError", "InvalidParameterValue", "AuthFailure", "SignatureDoesNotMatch", "InvalidVpcID.NotFound"] {
            #expect(!RetryPolicy.isRetryable(error(code)), "\(code)")
        }
        #expect(!RetryPolicy.isRetryable(error("NoCredentials", kind: .credentials)))
    }

    @Test func backoffIsFullJitterUnderAnExponentialCap() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .milliseconds(1000))
        for attempt in 1...8 {
            let cap = min(1000, 100 * (1 << (attempt - 1)))
            for _ in 0..<50 {
                let d = policy.delay(after: attempt)
                #expect(d >= .zero && d < .milliseconds(cap))
            }
        }
    }

    @Test func theRetryQuotaRunsOutAndSuccessesRefillIt() {
        let quota = RetryQuota()
        let e = error("Throttling")
        var spent = 0
        while let cost = quota.acquire(for: e) { spent += cost }
        #expect(spent == RetryQuota.capacity)
        #expect(quota.acquire(for: e) == nil)
        quota.release(5)
        #expect(quota.acquire(for: e) == 5)
    }

    @Test func theRateLimiterHalvesOnThrottlingAndRecoversSlowly() {
        let limiter = RateLimiter(maxRate: 40, minRate: 1, burst: 40)
        limiter.throttled()
        #expect(limiter.currentRate == 20)
        limiter.throttled()
        #expect(limiter.currentRate == 10)
        limiter.succeeded()
        #expect(limiter.currentRate == 10.5)
        for _ in 0..<10 { limiter.throttled() }
        #expect(limiter.currentRate == 1)
    }

    @Test func theRateLimiterSpacesCallsOnceItsBurstIsSpent() async throws {
        let limiter = RateLimiter(maxRate: 10, minRate: 1, burst: 10)
        for _ in 0..<10 { try await limiter.acquire() }
        let start = ContinuousClock.now
        for _ in 0..<3 { try await limiter.acquire() }
        #expect(ContinuousClock.now - start >= .milliseconds(250))
    }
}

@Suite struct XMLTests {
    @Test func listsTagsEntitiesAndCDATAAreRead() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcSet><item><vpcId>vpc-1</vpcId>
        <tagSet><item><key>Name</key><value>a &amp; b &lt;c&gt; &#233;</value></item></tagSet></item><item><vpcId>vpc-2</vpcId><tagSet/></item></vpcSet>
        <note><![CDATA[<raw>]]></note></DescribeVpcsResponse>
        """
        let root = try #require(XMLElement.parse(Array(xml.utf8)))
        #expect(root.name == "DescribeVpcsResponse")
        #expect(root.list("vpcSet").map { $0.string("vpcId") } == ["vpc-1", "vpc-2"])
        #expect(root.list("vpcSet")[0].tags() == ["Name": "a & b <c> é"])
        #expect(root.string("note") == "<raw>")
    }

    @Test("indentation between children is not text, a leaf's spaces are, and long and prefixed names read whole")
    func whitespaceAndNamesAreReadAsAWSMeansThem() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeInstancesResponse>
            <reservationSet>
                <item>
                    <networkInterfaceSet>
                        <item><networkInterfaceId>eni-1</networkInterfaceId></item>
                        <item><networkInterfaceId>eni-2</networkInterfaceId></item>
                    </networkInterfaceSet>
                    <tagSet><item><key>k</key><value>  </value></item></tagSet>
                    <soap:description xmlns:soap="x">two words</soap:description>
                    <mixed>a <b/> c</mixed>
                </item>
            </reservationSet>
        </DescribeInstancesResponse>
        """
        let root = try #require(XMLElement.parse(Array(xml.utf8)))
        let item = try #require(root.list("reservationSet").first)
        #expect(root.text == "" && item.text == "" && root.child("reservationSet")?.text == "")
        #expect(item.list("networkInterfaceSet").map { $0.string("networkInterfaceId") } == ["eni-1", "eni-2"])
        #expect(item.child("networkInterfaceSet")?.name == "networkInterfaceSet")
        #expect(item.tags() == ["k": "  "])
        #expect(item.string("description") == "two words")
        #expect(item.string("mixed") == "a  c")
        #expect(XMLElement.parse(Array("<a> </a>".utf8))?.text == " ")
    }

    @Test func garbageIsNotXML() {
        #expect(XMLElement.parse(Array("not xml".utf8)) == nil)
        #expect(XMLElement.parse(Array("<a><b></a".utf8)) == nil)
    }

    @Test func policyDocumentsAreDecodedFromIAMsURLEncoding() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
        #expect(IAM.policyDocument(encoded) == ["Version": "2012-10-17", "Statement": []])
        #expect(IAM.policyDocument("{\"a\": 1}") == ["a": 1])
    }
}
