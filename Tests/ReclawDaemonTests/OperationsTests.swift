import Crypto
import Foundation
import Logging
import ReclawAWS
import ReclawAlerts
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawHTTP
import ReclawOperations
import ReclawTestSupport
import ServiceLifecycle
import Synchronization
import Testing

@Suite struct OperationsTests {
    func signature(_ body: String, _ secret: String) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    @Test func pushNotificationsMustBeSignedAndMetricsAndHealthAreServed() async throws {
        let pushes = Mutex(0)
        let metrics = Metrics()
        metrics.reconciled(deployment: "alpha", kind: "apply", result: .success, seconds: 0.3)
        metrics.succeeded(deployment: "alpha", at: Date(timeIntervalSince1970: 1_800_000_000))
        metrics.drifted(deployment: "alpha", resources: 2)
        let server = try await OperationsServer(address: "127.0.0.1:0", metrics: metrics, secret: "s3cret", logger: Logger(label: "test"),
                                                health: { HealthReport(healthy: true, message: "ok") }, onPush: { pushes.withLock { $0 += 1 } })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.waitUntilListening()
            let base = "http://127.0.0.1:\(port)"
            let http = HTTPClient()
            let body = #"{"ref":"refs/heads/main"}"#
            func post(_ headers: [(name: String, value: String)]) async throws -> Int {
                try await http.send(HTTPRequest(method: "POST", url: base + "/hooks/git", headers: headers, body: Array(body.utf8))).status
            }
            #expect(try await post([]) == 401)
            #expect(try await post([("X-Hub-Signature-256", signature(body, "wrong"))]) == 401)
            #expect(try await post([("X-Hub-Signature-256", "sha256=zz")]) == 401)
            #expect(pushes.withLock { $0 } == 0)
            #expect(try await post([("X-Hub-Signature-256", signature(body, "s3cret"))]) == 202)
            #expect(pushes.withLock { $0 } == 1)
            #expect(try await http.send(HTTPRequest(url: base + "/healthz")).status == 200)
            let text = try await http.send(HTTPRequest(url: base + "/metrics")).bodyText
            #expect(text.contains(#"reclaw_reconcile_duration_seconds_count{deployment="alpha",kind="apply"} 1"#))
            #expect(text.contains("reclaw_drifted_resources{deployment=\"alpha\"} 2"))
            #expect(text.contains("reclaw_last_successful_reconcile_timestamp_seconds{deployment=\"alpha\"} 1800000000.0"))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func anEmptyHookSecretRefusesEveryPushEvenOneSignedWithTheEmptyKey() async throws {
        let pushes = Mutex(0)
        let server = try await OperationsServer(address: "127.0.0.1:0", metrics: Metrics(), secret: "", logger: Logger(label: "test"),
                                                health: { HealthReport(healthy: true, message: "ok") }, onPush: { pushes.withLock { $0 += 1 } })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.waitUntilListening()
            let body = #"{"ref":"refs/heads/main"}"#
            let status = try await HTTPClient().send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/hooks/git",
                                                                 headers: [("X-Hub-Signature-256", signature(body, ""))], body: Array(body.utf8))).status
            #expect(status == 401)
            #expect(pushes.withLock { $0 } == 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func awsCallsAreCountedByServiceOperationAndOutcome() async throws {
        let metrics = Metrics()
        let emulator = Emulator.shared
        let name = uniqueName("metrics")
        try await emulator.injectError(userAgent: "deployment/\(name)", operation: "DescribeVpcs", code: "Throttling", count: 1)
        _ = try await EC2Client(client: emulator.client(observer: metrics), region: "us-east-1", context: AWSCallContext(deployment: name)).vpcs([])
        let text = metrics.render()
        #expect(text.contains("reclaw_aws_calls_total{service=\"ec2\",operation=\"DescribeVpcs\",outcome=\"Throttling\"} 1"))
        #expect(text.contains("reclaw_aws_calls_total{service=\"ec2\",operation=\"DescribeVpcs\",outcome=\"ok\"} 1"))
    }

    @Test func slackAndDiscordGetTheirOwnShapesWithTheSameFactsAndGenericGetsTheEvent() throws {
        let event = AuditEvent(type: .driftDetected, deployment: "alpha", revision: "abc123", resources: [.init(type: "AWS::EC2::SecurityGroup", name: "sg-1")],
                               attribution: [.init(eventName: "AuthorizeSecurityGroupIngress", eventTime: "2026-11-25T01:00:00.000Z",
                                                   userIdentityArn: "arn:aws:iam::1:user/mallory", accessKeyId: "AKIAMALLORY", sourceIPAddress: "1.2.3.4",
                                                   cloudTrailEventID: "ct-1", actorType: "human")],
                               message: "alpha: drift on instance-sg ingress")
        let slack = AlertWebhook(url: "https://hooks.slack.com/services/T000/B000/XXXX", index: 0)
        let discord = AlertWebhook(url: "https://discord.com/api/webhooks/123/abc", index: 1)
        let generic = AlertWebhook(url: "https://alerts.example.com/reclaw?key=secret", index: 2)
        #expect(slack.kind == .slack && discord.kind == .discord && generic.kind == .generic)
        #expect(!slack.label.contains("XXXX") && !generic.label.contains("secret"))
        let s = try #require(try JSONSerialization.jsonObject(with: Data(slack.body(for: event))) as? [String: Any])
        #expect((s["text"] as? String)?.contains("DriftDetected on alpha") == true)
        #expect(String(decoding: slack.body(for: event), as: UTF8.self).contains("arn:aws:iam::1:user/mallory"))
        let d = try #require(try JSONSerialization.jsonObject(with: Data(discord.body(for: event))) as? [String: Any])
        let fields = try #require(((d["embeds"] as? [[String: Any]])?.first?["fields"] as? [[String: Any]]))
        #expect(fields.contains { $0["name"] as? String == "Changed by" && ($0["value"] as? String)?.contains("AKIAMALLORY") == true })
        #expect(fields.contains { ($0["value"] as? String)?.contains("(AKIAMALLORY) [human] from 1.2.3.4, AuthorizeSecurityGroupIngress") == true })
        let g = try #require(try JSONSerialization.jsonObject(with: Data(generic.body(for: event))) as? [String: Any])
        #expect(g["eventType"] as? String == "DriftDetected" && g["eventID"] as? String == event.eventID)
    }

    @Test func failedDeliveriesAreRetriedWithoutBlockingAndWithoutLoggingTheURL() async throws {
        let receiver = try EchoServer()
        let lines = CapturedLines()
        let logger = lines.logger(label: "alerts")
        // The first URL always answers 503; the second never answers.
        let flaky = receiver.url + "/status/503"
        let metrics = Metrics()
        let notifier = AlertNotifier(urls: [flaky, "http://127.0.0.1:9/hooks/SECRET-PATH"], logger: logger, attempts: 3, firstDelay: .milliseconds(50),
                                     metrics: metrics)
        let start = ContinuousClock.now
        notifier.send(AuditEvent(type: .driftDetected, deployment: "alpha"))
        #expect(ContinuousClock.now - start < .milliseconds(50), "sending blocked the caller")
        notifier.finish()
        try await notifier.run()
        let text = lines.all.joined(separator: "\n")
        #expect(text.contains("alert delivery refused") && text.contains("alert dropped after 3 attempts"))
        #expect(!text.contains("SECRET-PATH") && !text.contains("/status/503") && !text.contains("127.0.0.1:9"))
        // Each attempt's outcome, and the alert dropped after the last attempt.
        let exposition = metrics.render()
        for (outcome, count) in [("refused", 3), ("failed", 3), ("dropped", 2)] {
            #expect(exposition.contains("reclaw_alert_deliveries_total{outcome=\"\(outcome)\"} \(count)\n"), "\(outcome)")
        }
        #expect(exposition.contains("reclaw_alert_deliveries_total{outcome=\"delivered\"} 0\n"))
    }

    @Test func aDeliveredAlertIsCountedAsDelivered() async throws {
        let receiver = try EchoServer()
        let metrics = Metrics()
        let notifier = AlertNotifier(urls: [receiver.url + "/hooks/alerts"], logger: Logger(label: "test"), metrics: metrics)
        notifier.send(AuditEvent(type: .driftDetected, deployment: "alpha"))
        notifier.finish()
        try await notifier.run()
        #expect(metrics.render().contains(#"reclaw_alert_deliveries_total{outcome="delivered"} 1"#))
    }
}
