import Crypto
import Foundation
import Logging
import ReclawAlerts
import ReclawAudit
import ReclawDaemon
import ReclawJSON
import ReclawTestSupport
import Testing

/// What Slack, Discord and generic receivers get: within each platform's limits whatever the
/// event holds, escaped so a spec cannot ping a channel, saying what changed and what reclaw did.
@Suite struct AlertPayloadTests {
    /// An invalid spec with 63 errors, each quoting the spec (mentions and markup included): the
    /// alert that used to be refused.
    static let invalidSpec: AuditEvent = {
        let errors = (1...63).map { i in
            "deployments/app.yaml:\(i):3: error: spec.tags.team<!channel> & <@U123> value '\(String(repeating: "x", count: 90))' is not allowed (\(i))"
        }
        return AuditEvent(type: .reconcileFailed, deployment: "alpha", revision: String(repeating: "a", count: 40), errorCode: "InvalidSpec",
                          errorMessage: errors.joined(separator: "; "), message: "alpha: the spec is invalid (63 errors)")
    }()

    /// Drift on many resources, with a long attribution.
    static let bigDrift: AuditEvent = {
        var diff: [String: JSONValue] = [:]
        for i in 0..<40 {
            diff["endpoint-sg-\(i).ingress"] = ["resourceID": .string("sg-\(String(format: "%08x", i))"), "before": [],
                                                "after": .array((0..<20).map { p in
                                                    ["protocol": "tcp", "fromPort": .int(1000 + p), "toPort": .int(1000 + p), "peer": "0.0.0.0/0"]
                                                })]
        }
        let who = (0..<30).map { i in
            AuditEvent.Attribution(eventName: "AuthorizeSecurityGroupIngress", eventTime: "2026-11-25T01:00:00.000Z",
                                   userIdentityArn: "arn:aws:iam::111122223333:user/<!here>-\(i)", accessKeyId: "AKIA\(i)",
                                   sourceIPAddress: "198.51.100.\(i)", cloudTrailEventID: "ct-\(i)")
        }
        return AuditEvent(type: .driftDetected, deployment: "alpha", revision: "abc", resources: (0..<40).map { .init(type: "AWS::EC2::SecurityGroup", name: "sg-\($0)") },
                          diff: .object(diff), attribution: who, attributionStatus: "attributed", message: "alpha: drift", details: ["driftPolicy": "alert"])
    }()

    /// The oversized events by name, so a failure names the case without printing it whole.
    static let oversized = ["an invalid spec with 63 errors": invalidSpec, "drift on 40 groups": bigDrift]

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func length(_ s: String?) -> Int { s?.utf16.count ?? 0 }

    @Test(arguments: oversized.keys.sorted())
    func slackMessagesKeepEveryLimitAndSayWhatWasCut(_ name: String) throws {
        let event = try #require(Self.oversized[name])
        let body = AlertWebhook(url: "https://hooks.slack.com/services/T0/B0/X", index: 0).body(for: event)
        let message = try json(body)
        let blocks = try #require(message["blocks"] as? [[String: Any]])
        #expect(!blocks.isEmpty && blocks.count <= 50)
        #expect(length(message["text"] as? String) <= 3000)
        var texts: [String] = []
        for block in blocks {
            if let text = (block["text"] as? [String: Any])?["text"] as? String {
                #expect(length(text) <= 3000, "a section of \(length(text)) characters")
                texts.append(text)
            }
            if let fields = block["fields"] as? [[String: Any]] {
                #expect(fields.count <= 10)
                for f in fields {
                    let text = try #require(f["text"] as? String)
                    #expect(length(text) <= 2000, "a field of \(length(text)) characters")
                    texts.append(text)
                }
            }
        }
        #expect(texts.contains { $0.contains("characters) cut") || $0.contains("more characters cut") }, "nothing says what was cut")
        let raw = String(decoding: body, as: UTF8.self)
        #expect(!raw.contains("<!channel>") && !raw.contains("<!here>") && !raw.contains("<@U123>"))
        #expect(raw.contains("&lt;!") && raw.contains("&amp;") || event.eventType != .reconcileFailed)
    }

    @Test(arguments: oversized.keys.sorted())
    func discordMessagesKeepEveryLimitAndNeverMention(_ name: String) throws {
        let event = try #require(Self.oversized[name])
        let message = try json(AlertWebhook(url: "https://discord.com/api/webhooks/1/t", index: 0).body(for: event))
        #expect(length(message["content"] as? String) <= 2000)
        #expect((message["allowed_mentions"] as? [String: Any])?["parse"] as? [Any] != nil)
        #expect(((message["allowed_mentions"] as? [String: Any])?["parse"] as? [Any])?.isEmpty == true)
        let embeds = try #require(message["embeds"] as? [[String: Any]])
        #expect(embeds.count == 1)
        let embed = embeds[0]
        let title = embed["title"] as? String
        let description = embed["description"] as? String
        let fields = try #require(embed["fields"] as? [[String: Any]])
        #expect(length(title) <= 256 && length(description) <= 4096 && fields.count <= 25)
        var total = length(title) + length(description)
        for f in fields {
            let name = f["name"] as? String, value = f["value"] as? String
            #expect(length(name) <= 256 && length(value) <= 1024 && length(value) > 0)
            total += length(name) + length(value)
        }
        #expect(total <= 6000, "the embed holds \(total) characters")
        // Cut to fit, or (an invalid spec's diagnostics) shortened by reclaw first: either way it says so.
        #expect(description?.contains("cut") == true || description?.contains("more (reclaw validate lists them all)") == true)
    }

    @Test func slackAndDiscordSayWhatChangedAndWhatReclawDidAboutIt() throws {
        let rule: JSONValue = ["protocol": "tcp", "fromPort": 22, "toPort": 22, "peer": "0.0.0.0/0"]
        let diff: JSONValue = ["instance-sg.ingress": ["resourceID": "sg-0abc", "before": [], "after": [rule]],
                               "vpc.enableDnsHostnames": ["resourceID": "vpc-1", "before": true, "after": false],
                               "instance.tags.Team": ["resourceID": "i-1", "before": "a", "after": .null]]
        let alerted = AuditEvent(type: .driftDetected, deployment: "alpha", diff: diff, attributionStatus: "pending", details: ["driftPolicy": "alert"])
        let corrected = AuditEvent(type: .driftCorrected, deployment: "alpha", diff: diff, attributionStatus: "pending")
        let slack = AlertWebhook(url: "https://hooks.slack.com/services/T0/B0/X", index: 0)
        let discord = AlertWebhook(url: "https://discord.com/api/webhooks/1/t", index: 1)
        for hook in [slack, discord] {
            let a = String(decoding: hook.body(for: alerted), as: UTF8.self)
            #expect(a.contains("instance-sg (sg-0abc) ingress: tcp/22 from 0.0.0.0/0 added"), "\(a)")
            #expect(a.contains("vpc (vpc-1) enableDnsHostnames: true → false"))
            #expect(a.contains("instance (i-1): tag Team removed (was a)"))
            #expect(a.contains("Left as it is under policy.drift: alert"))
            let c = String(decoding: hook.body(for: corrected), as: UTF8.self)
            #expect(c.contains("Corrected: reclaw put it back as the spec says.") && c.contains("tcp/22 from 0.0.0.0/0 added"))
        }
    }

    @Test func anInvalidSpecAlertCountsTheErrorsTheEventCarriesAndNamesEachResourceOnce() throws {
        // Diagnostics whose own text holds "; ": the count is the event's, never the pieces of its text.
        let errors = (1...400).map { "deployments/app.yaml:\($0 + 6):3: error: unknown key 'f\($0)'; did you mean 'g'?" }
        let invalid = AuditEvent(type: .reconcileFailed, deployment: "alpha", revision: "abc", errorCode: "InvalidSpec",
                                 errorMessage: errors.joined(separator: "\n"), message: "alpha: stalled: the spec at abc is invalid (400 errors)",
                                 details: ["errors": 400])
        let repeated = AuditEvent(type: .driftDetected, deployment: "alpha",
                                  resources: (0..<330).map { .init(type: "AWS::EC2::SecurityGroup", name: "sg-\($0 % 7)") })
        #expect(repeated.resources.map(\.name) == (0..<7).map { "sg-\($0)" })
        for hook in [AlertWebhook(url: "https://hooks.slack.com/services/T0/B0/X", index: 0), AlertWebhook(url: "https://discord.com/api/webhooks/1/t", index: 1)] {
            let body = String(decoding: hook.body(for: invalid), as: UTF8.self)
            #expect(body.contains("400 errors") && !body.contains("800 errors"), "\(body.prefix(2000))")
            #expect(body.contains("and 380 more (reclaw validate lists them all)") || body.contains("cut"), "\(body.suffix(2000))")
            #expect(body.contains("Stalled: the spec is invalid"))
            let drift = String(decoding: hook.body(for: repeated), as: UTF8.self)
            #expect(drift.components(separatedBy: "sg-3").count - 1 == 1, "\(drift.prefix(2000))")
        }
    }

    @Test func webhookHostsAreMatchedExactly() {
        let cases: [(String, AlertWebhook.Kind)] = [
            ("https://hooks.slack.com/services/T0/B0/X", .slack),
            ("https://HOOKS.SLACK.COM/services/T0/B0/X", .slack),
            ("https://hooks.slack.com.evil.example/services/T0", .generic),
            ("https://evilhooks.slack.com/services/T0", .generic),
            ("https://discord.com/api/webhooks/1/t", .discord),
            ("https://discordapp.com/api/webhooks/1/t", .discord),
            ("https://notdiscord.com/api/webhooks/1/t", .generic),
            ("https://discord.com.evil.example/api/webhooks/1/t", .generic),
            ("https://discord.com/other/1", .generic),
        ]
        for (url, kind) in cases { #expect(AlertWebhook(url: url, index: 0).kind == kind, "\(url)") }
    }

    @Test func genericDeliveriesAreSignedTheWayStandardWebhooksAndGitHubSign() async throws {
        let receiver = try EchoServer()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let secret = "whsec_" + Data("a key of thirty-two bytes, exact".utf8).base64EncodedString()
        let notifier = AlertNotifier(urls: [receiver.url + "/record"], logger: Logger(label: "test"),
                                     attempts: 1, signer: try WebhookSigner(secret: secret), now: { at })
        let event = AuditEvent(type: .driftDetected, deployment: "alpha", message: "alpha: drift")
        notifier.send(event)
        notifier.finish()
        try await notifier.run()
        let records = try #require(try JSONSerialization.jsonObject(with: Data(try await receiver.records().utf8)) as? [[String: Any]])
        let record = try #require(records.last)
        let headers = Dictionary(((record["headers"] as? [String: String]) ?? [:]).map { ($0.key.lowercased(), $0.value) }) { a, _ in a }
        let body = try #require(record["body"] as? String)
        #expect(body == event.jsonLine)
        #expect(headers["webhook-id"] == event.eventID && headers["x-reclaw-delivery"] == event.eventID)
        #expect(headers["webhook-timestamp"] == "1800000000")
        #expect(headers["x-reclaw-event"] == "DriftDetected")
        #expect(headers["user-agent"]?.hasPrefix("reclaw/") == true)
        let key = SymmetricKey(data: Data("a key of thirty-two bytes, exact".utf8))
        let standard = Data(HMAC<SHA256>.authenticationCode(for: Data("\(event.eventID).1800000000.\(body)".utf8), using: key)).base64EncodedString()
        #expect(headers["webhook-signature"] == "v1,\(standard)")
        let github = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        #expect(headers["x-reclaw-signature-256"] == "sha256=\(github)")
    }

    @Test func unsignedGenericDeliveriesStillCarryTheirIdAndTimeAndABadSecretIsRefused() throws {
        let hook = AlertWebhook(url: "https://alerts.example.com/reclaw", index: 0)
        let event = AuditEvent(type: .sourceFailed, message: "x")
        let request = hook.request(for: event, signer: nil, now: Date(timeIntervalSince1970: 5))
        let names = Set(request.headers.map { $0.name.lowercased() })
        #expect(names.isSuperset(of: ["webhook-id", "webhook-timestamp", "user-agent", "content-type"]))
        #expect(!names.contains("webhook-signature") && !names.contains("x-reclaw-signature-256"))
        let slack = AlertWebhook(url: "https://hooks.slack.com/services/T0/B0/X", index: 0).request(for: event, signer: try WebhookSigner(secret: "s"), now: Date())
        #expect(!slack.headers.contains { $0.name == "webhook-signature" })
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: "whsec_***") }
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: " \n") }
    }
}
