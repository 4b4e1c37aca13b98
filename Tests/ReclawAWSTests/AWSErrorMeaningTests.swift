import Testing
@testable import ReclawAWS

@Suite struct AWSErrorMeaningTests {
    func service(_ code: String, _ message: String = "") -> AWSError {
        AWSError(kind: .service, code: code, message: message, httpStatus: 400, service: "ec2", operation: "DescribeVpcs", region: "eu-west-1")
    }

    @Test func throttlingIsDecidedByTheCode() {
        #expect(service("Throttling").isThrottling)
        #expect(service("RequestLimitExceeded").isThrottling)
        #expect(!service("ValidationError", "Throttling of this account is configured").isThrottling)
        #expect(service("ThrottlingException").quotaExhausted("ec2/eu-west-1").isThrottling)
        #expect(service("ThrottlingException").quotaExhausted("ec2/eu-west-1").kind == .retryQuotaExhausted)
    }

    @Test func notFoundIsDecidedByTheCode() {
        for code in ["InvalidVpcID.NotFound", "NoSuchEntity", "ParameterNotFound", "ResourceNotFoundException", "InvalidGroup.NotFound"] {
            #expect(service(code).isNotFound, "\(code)")
        }
        #expect(!service("AccessDenied", "the role NotFound does not exist").isNotFound)
        #expect(service("InvalidParameterValue", "The association iip-assoc-1 does not exist").isNotFound)
        #expect(!service("InvalidParameterValue", "CIDR is invalid").isNotFound)
    }

    @Test func cancellationComesFromItsOwnConstructor() {
        let cancelled = AWSError.cancelled(service: "ec2", operation: "DescribeVpcs", region: "eu-west-1")
        #expect(cancelled.isCancelled)
        #expect(cancelled.code == "Cancelled")
        #expect(cancelled.kind == .transport)
        #expect(AWSError.cancelled(service: "reclaw", operation: "wait", waitingFor: "i-1 to stop").message == "cancelled while waiting for i-1 to stop")
        #expect(!service("Cancelled").isCancelled)
        #expect(!service("Throttling").isCancelled)
    }

    @Test func anUnpropagatedInstanceProfileIsRecognisedOnce() {
        let refused = service("InvalidParameterValue", "Value (fresh) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
        #expect(refused.isInstanceProfileNotPropagated)
        #expect(!refused.isNotFound)
        #expect(!service("InvalidParameterValue", "Value (t9.huge) for parameter instanceType is invalid").isInstanceProfileNotPropagated)
    }

    @Test func notingKeepsTheMeaningAndAddsToTheMessage() {
        let noted = service("Throttling", "Rate exceeded").noting("(still refused)")
        #expect(noted.isThrottling)
        #expect(noted.message == "Rate exceeded (still refused)")
        #expect(service("Throttling").noting("(x)").message == "(x)")
    }
}
