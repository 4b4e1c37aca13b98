import Foundation
import Logging
import ReclawAlerts
import ReclawAudit
import ReclawDaemon
import ReclawTestSupport
import Testing

/// The operator chooses a webhook's format with a `FORMAT+` scheme prefix, which is never sent.
extension AlertPayloadTests {
    @Test func aSchemePrefixChoosesTheFormatAndIsStrippedFromTheURL() throws {
        let cases: [(String, AlertWebhook.Kind, String)] = [
            ("slack+https://chat.example.com/hooks/abc", .slack, "https://chat.example.com/hooks/abc"),
            ("SLACK+https://chat.example.com/hooks/abc", .slack, "https://chat.example.com/hooks/abc"),
            ("discord+https://proxy.example.com/api/webhooks/1/t", .discord, "https://proxy.example.com/api/webhooks/1/t"),
            ("generic+https://hooks.slack.com/services/T0/B0/X", .generic, "https://hooks.slack.com/services/T0/B0/X"),
            ("slack+http://127.0.0.1:8080/record", .slack, "http://127.0.0.1:8080/record"),
            ("https://hooks.slack.com/services/T0/B0/X", .slack, "https://hooks.slack.com/services/T0/B0/X"),
            ("https://alerts.example.com/a+b:c", .generic, "https://alerts.example.com/a+b:c"),
        ]
        for (spec, kind, url) in cases {
            let hook = AlertWebhook(url: spec, index: 0)
            #expect(hook.kind == kind, "\(spec)")
            #expect(hook.url == url, "\(spec)")
            #expect(hook.label == "alert webhook #1 (\(kind.rawValue))")
        }
        #expect(try AlertWebhook.format(of: "https://hooks.slack.com/x") == nil)
    }

    @Test func anUnknownFormatPrefixIsReportedByName() {
        #expect(throws: AlertWebhook.UnknownFormat.self) { try AlertWebhook.format(of: "teams+https://example.com/x") }
        do {
            _ = try AlertWebhook.format(of: "teams+https://example.com/x")
            Issue.record("no error for teams+")
        } catch {
            #expect(error.prefix == "teams")
            #expect("\(error)".contains("'teams+'"))
        }
    }

    @Test func aSlackPrefixedWebhookReceivesASlackMessageAtTheURLWithoutThePrefix() async throws {
        let receiver = try EchoServer()
        let spec = "slack+" + receiver.url + "/record"
        let notifier = AlertNotifier(urls: [spec], logger: Logger(label: "test"), attempts: 1)
        #expect(notifier.webhooks.first?.kind == .slack)
        let event = AuditEvent(type: .driftDetected, deployment: "alpha", message: "alpha: drift")
        notifier.send(event)
        notifier.finish()
        try await notifier.run()
        let records = try #require(try JSONSerialization.jsonObject(with: Data(try await receiver.records().utf8)) as? [[String: Any]])
        let record = try #require(records.last)
        #expect(record["path"] as? String == "/record")
        let body = try #require((record["body"] as? String).flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(body["blocks"] is [Any] && body["text"] is String, "not a Slack message: \(body)")
        #expect(body["embeds"] == nil)
    }
}
