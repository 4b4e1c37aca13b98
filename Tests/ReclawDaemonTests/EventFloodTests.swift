import Foundation
import ReclawAWS
import ReclawDaemon
import ReclawTestSupport
import Testing

/// Forged CloudTrail events in bulk: they cost a bounded number of drift checks. A suite of its
/// own, with an emulator of its own, so the flood does not slow EventDrivenDriftTests' queues.
@Suite struct EventFloodTests {
    typealias Setup = EventDrivenDriftTests.Setup

    @Test func aFloodOfForgedEventsWakesAtMostOneDriftCheckPerFewSeconds() async throws {
        // An emulator of its own: the flood must not slow the other tests' queues.
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        let s = try await Setup(region: "ap-northeast-3", emulator: emulator)
        let sqs = SQSClient(client: s.h.client, region: s.region)
        let url = try #require(try await sqs.queueURL(s.queue))
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            let group = try #require(s.h.status(s.name)?.resourceIDs["instance-sg"])
            let checks = s.driftChecks
            let began = ContinuousClock.now
            // Only EventBridge may send in AWS; the emulator does not enforce queue policies. One
            // event carries a 200 KB eventName.
            _ = try await Command.check(["python3", "-c", """
            import boto3, json, sys, uuid
            url, region, queue, group = sys.argv[1:5]
            sqs = boto3.client("sqs", endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
            def body(name):
                return json.dumps({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "region": region, "detail": {
                    "eventID": str(uuid.uuid4()), "eventName": name, "eventSource": "ec2.amazonaws.com", "awsRegion": region,
                    "eventTime": "2026-11-25T01:02:03Z", "requestID": str(uuid.uuid4()), "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/forger"},
                    "requestParameters": {"groupId": group}}})
            for batch in range(30):
                names = ["A" * 200_000 if batch == 0 and i == 0 else "AuthorizeSecurityGroupIngress" for i in range(10)]
                sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": body(n)} for i, n in enumerate(names)])
            """, emulator.url, s.region, url, group])
            let drained = await eventually(.seconds(90)) { (try? await s.queued(in: s.region)) == 0 }
            #expect(drained, "the forged events are still queued")
            let seconds = (ContinuousClock.now - began) / .seconds(1)
            let woken = s.driftChecks - checks
            // One check per 5 seconds, and the one a last event may leave due.
            #expect(woken >= 1 && Double(woken) <= seconds / 5 + 2, "300 events woke \(woken) drift checks in \(seconds)s")
        }
    }

    @Test("receiving waits for deletes, so handled messages do not pile up in the daemon")
    func receivingWaitsForDeletes() async throws {
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        let s = try await Setup(region: "ap-southeast-3", emulator: emulator)
        let sqs = SQSClient(client: s.h.client, region: s.region)
        let url = try #require(try await sqs.queueURL(s.queue))
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            // A receive brings ten messages at once; each delete now takes 100 ms.
            _ = try await emulator.injectDelay(service: "sqs", operation: "DeleteMessage", milliseconds: 100)
            _ = try await Command.check(["python3", "-c", """
            import boto3, json, sys, uuid
            url, region, queue = sys.argv[1:4]
            sqs = boto3.client("sqs", endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
            def body():
                return json.dumps({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "region": region, "detail": {
                    "eventID": str(uuid.uuid4()), "eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com",
                    "awsRegion": region, "eventTime": "2026-11-25T01:02:03Z", "requestID": str(uuid.uuid4()),
                    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/someone"},
                    "requestParameters": {"groupId": "sg-0123456789abcdef0"}}})
            for batch in range(40):
                sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": body()} for i in range(10)])
            """, emulator.url, s.region, url])
            var most = 0
            let drained = await eventually(.seconds(120)) {
                guard let a = try? await sqs.attributes(url, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]) else { return false }
                let hidden = Int(a["ApproximateNumberOfMessagesNotVisible"] ?? "") ?? 0
                most = max(most, hidden)
                return hidden + (Int(a["ApproximateNumberOfMessages"] ?? "") ?? 0) == 0
            }
            #expect(drained, "the 400 events are still queued")
            // Received and not yet deleted: at most maxUndisposed (100), plus the ten of one receive.
            #expect(most <= 110, "\(most) messages were received and not yet deleted at once")
        }
    }
}
