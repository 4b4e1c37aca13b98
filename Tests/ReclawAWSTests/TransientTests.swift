import Foundation
import Testing
@testable import ReclawAWS
import ReclawTestSupport

/// Records the waits a client reports.
final class RecordingWaits: WaitObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [String] = []
    func waitBegan(_ wait: WaitRecord) async { lock.withLock { events.append("began \(wait.what)") } }
    func waitContinues(_ wait: WaitRecord, elapsed: Duration) async {}
    func waitEnded(_ wait: WaitRecord, elapsed: Duration, outcome: WaitOutcome) async { lock.withLock { events.append("ended \(outcome)") } }
    var all: [String] { lock.withLock { events } }
}

/// The client waits out EC2's eventual consistency and throttling up to their deadlines, and
/// nothing else: counted at the emulator.
@Suite struct TransientTests {
    let emulator = Emulator.shared

    struct Caller {
        let name = uniqueName("transient")
        var context: AWSCallContext { AWSCallContext(deployment: name) }
        var agent: String { "deployment/\(name)" }
    }

    /// Windows long enough that a machine busy with the whole suite stays within them, except where a test is about their end.
    func client(consistency: Duration = .seconds(30), throttling: Duration = .seconds(60)) -> AWSClient {
        var d = TransientDeadlines()
        d.eventualConsistency = consistency
        d.throttling = throttling
        return emulator.client(maxAttempts: 3, deadlines: d)
    }

    /// Makes the next `count` calls of `operation` by `caller` answer NotFound about `id` (or, without
    /// one, about an id the message does not name), as EC2 does for an id it does not know yet.
    func notFound(_ caller: Caller, _ operation: String, id: String?, count: Int?) async throws -> Int {
        try await emulator.admin("faults", ["operation": operation, "userAgent": caller.agent, "count": count ?? NSNull(),
                                            "error": ["code": "InvalidVpcID.NotFound", "status": 400,
                                                      "message": id.map { "The vpc ID '\($0)' does not exist" } ?? "The vpc ID does not exist"]])["id"] as? Int ?? 0
    }

    func seen(_ operation: String, _ caller: Caller) async throws -> Int {
        try await emulator.requests(operation: operation, userAgent: caller.agent).count
    }

    @Test func aNotFoundAboutAnIDJustCreatedIsRetriedUntilTheIDIsVisible() async throws {
        let caller = Caller()
        let waits = RecordingWaits()
        let ec2 = EC2Client(client: client().reporting(to: waits), region: "sa-east-1", context: caller.context)
        let vpc = try await ec2.createVpc(cidr: "10.9.0.0/16", tags: [:])
        _ = try await notFound(caller, "ModifyVpcAttribute", id: vpc, count: 2)
        try await ec2.modifyVpcAttribute(vpc, "EnableDnsHostnames", true)
        #expect(try await seen("ModifyVpcAttribute", caller) == 3)
        #expect(waits.all == ["began \(vpc) to become visible in EC2", "ended done"])
    }

    @Test func aNotFoundAboutAnIDThisClientDidNotJustCreateMeansAbsentAtOnce() async throws {
        let caller = Caller()
        let vpc = try await EC2Client(client: emulator.client(), region: "sa-east-1").createVpc(cidr: "10.9.0.0/16", tags: [:])
        _ = try await notFound(caller, "ModifyVpcAttribute", id: vpc, count: 1)
        let ec2 = EC2Client(client: client(), region: "sa-east-1", context: caller.context)
        await #expect { try await ec2.modifyVpcAttribute(vpc, "EnableDnsHostnames", true) } throws: { ($0 as? AWSError)?.isNotFound == true }
        #expect(try await seen("ModifyVpcAttribute", caller) == 1)
    }

    @Test func anIDDeletedSinceItWasCreatedIsAbsentWhenNotFound() async throws {
        let caller = Caller()
        let ec2 = EC2Client(client: client(), region: "sa-east-1", context: caller.context)
        let vpc = try await ec2.createVpc(cidr: "10.9.0.0/16", tags: [:])
        try await ec2.delete("DeleteVpc", "VpcId", vpc)
        await #expect { try await ec2.modifyVpcAttribute(vpc, "EnableDnsHostnames", true) } throws: { ($0 as? AWSError)?.code == "InvalidVpcID.NotFound" }
        #expect(try await seen("ModifyVpcAttribute", caller) == 1)
    }

    @Test func aNewIDStillNotFoundWhenItsWindowEndsIsAbsent() async throws {
        let caller = Caller()
        let ec2 = EC2Client(client: client(consistency: .seconds(4)), region: "sa-east-1", context: caller.context)
        // The fault is in place before the create, so the first call comes well within the window
        // (four seconds: on a loaded machine the create's answer alone took two).
        let fault = try await notFound(caller, "ModifyVpcAttribute", id: nil, count: nil)
        let vpc = try await ec2.createVpc(cidr: "10.9.0.0/16", tags: [:])
        // The window ending is what stops the retries (the fault never ends): the call failing is the check.
        await #expect { try await ec2.modifyVpcAttribute(vpc, "EnableDnsHostnames", true) } throws: { error in
            let e = error as! AWSError
            return e.code == "InvalidVpcID.NotFound" && e.requestID != nil && e.attempts > 1
        }
        try await emulator.removeFault(fault)
    }

    @Test func throttlingIsWaitedOutPastTheAttemptLimitUntilItsDeadline() async throws {
        let caller = Caller()
        try await emulator.injectError(userAgent: caller.agent, operation: "DescribeSubnets", code: "RequestLimitExceeded", status: 503, count: 5)
        let waits = RecordingWaits()
        _ = try await EC2Client(client: client().reporting(to: waits), region: "sa-east-1", context: caller.context).subnets([])
        #expect(try await seen("DescribeSubnets", caller) == 6)
        #expect(waits.all == ["began ec2 DescribeSubnets to be accepted (throttled: RequestLimitExceeded)", "ended done"])
    }

    @Test func throttlingPastItsDeadlineFailsWithTheCodeAndRequestID() async throws {
        let caller = Caller()
        let fault = try await emulator.injectError(userAgent: caller.agent, operation: "DescribeSubnets", code: "RequestLimitExceeded", status: 503, count: nil)
        let ec2 = EC2Client(client: client(throttling: .seconds(1)), region: "sa-east-1", context: caller.context)
        await #expect { _ = try await ec2.subnets([]) } throws: { error in
            let e = error as! AWSError
            return e.code == "RequestLimitExceeded" && e.requestID != nil && e.kind == .service
        }
        try await emulator.removeFault(fault)
    }

    @Test func idsAreRecognisedInResponsesAndMessages() {
        for id in ["vpc-0a1b2c3d", "vpc-85ec60af6f2879f3b", "rtbassoc-0123456789abcdef0", "iip-assoc-0123456789abcdef0", "i-0abcdef1234567890"] {
            #expect(FreshIDs.isResourceID(id), "\(id)")
        }
        for text in ["request-id", "59dbff89-35bd-4eac-99ed-be587example", "vpc-XYZ", "alpha-vpc", "vpc-123", "Vpc-0a1b2c3d"] {
            #expect(!FreshIDs.isResourceID(text), "\(text)")
        }
        #expect(FreshIDs.ids(inText: "The vpc ID 'vpc-85ec60af6f2879f3b' does not exist") == ["vpc-85ec60af6f2879f3b"])
        let xml = XMLElement.parse(Array("<CreateVpcResponse><requestId>59dbff89-35bd-4eac-99ed-be587e1a2b3c</requestId><vpc><vpcId>vpc-85ec60af6f2879f3b</vpcId><dhcpOptionsId>dopt-7a8b9c2d</dhcpOptionsId><ownerId>123456789012</ownerId></vpc></CreateVpcResponse>".utf8))!
        #expect(FreshIDs.ids(in: xml) == ["vpc-85ec60af6f2879f3b", "dopt-7a8b9c2d"])
    }

    @Test func deadlinesScaleAndReadAsPeopleSayThem() {
        let d = TransientDeadlines().scaled(0.1)
        #expect(d.endpointAvailable == .seconds(60) && d.agentRegistration == .seconds(90) && d.eventualConsistency == .seconds(12))
        #expect(TransientDeadlines().commandCompletion == .seconds(1560))
        #expect(Duration.milliseconds(800).spokenDuration == "800 ms")
        #expect(Duration.seconds(40).spokenDuration == "40 s")
        #expect(Duration.seconds(125).spokenDuration == "2 min 5 s")
        #expect(Duration.seconds(600).spokenDuration == "10 min")
    }
}
