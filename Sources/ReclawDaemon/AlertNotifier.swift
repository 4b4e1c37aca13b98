import Foundation
import Logging
import ReclawAudit
import ReclawHTTP
import ReclawJSON
import ServiceLifecycle

/// Where an alert goes, and in which shape.
public struct AlertWebhook: Sendable {
    public enum Kind: String, Sendable { case generic, slack, discord }

    public let url: String
    public let kind: Kind
    /// How the webhook is named in logs: never its URL, which holds a secret.
    public let label: String

    public init(url: String, index: Int) {
        self.url = url
        let host = URLComponents(string: url)?.host ?? ""
        if host == "hooks.slack.com" || host.hasSuffix(".slack.com") {
            kind = .slack
        } else if (host.hasSuffix("discord.com") || host.hasSuffix("discordapp.com")) && url.contains("/api/webhooks/") {
            kind = .discord
        } else {
            kind = .generic
        }
        label = "alert webhook #\(index + 1) (\(kind.rawValue))"
    }

    /// The request body: the event's JSON for a generic receiver, a Slack or Discord message otherwise.
    public func body(for event: AuditEvent) -> [UInt8] {
        switch kind {
        case .generic:
            return Array(event.jsonLine.utf8)
        case .slack:
            let message: JSONValue = [
                "text": .string(Self.headline(event)),
                "blocks": [
                    ["type": "section", "text": ["type": "mrkdwn", "text": .string("*\(Self.headline(event))*\n\(event.message ?? "")")]],
                    ["type": "section", "fields": .array(Self.facts(event).map { ["type": "mrkdwn", "text": .string("*\($0.0)*\n\($0.1)")] })],
                ],
            ]
            return Array(message.description.utf8)
        case .discord:
            let message: JSONValue = [
                "content": .string(Self.headline(event)),
                "embeds": [[
                    "title": .string(event.eventType.rawValue),
                    "description": .string(String((event.message ?? "").prefix(4000))),
                    "fields": .array(Self.facts(event).map { ["name": .string($0.0), "value": .string(String($0.1.prefix(1000))), "inline": true] }),
                ]],
            ]
            return Array(message.description.utf8)
        }
    }

    static func headline(_ e: AuditEvent) -> String {
        "reclaw: \(e.eventType.rawValue)\(e.deployment.map { " on \($0)" } ?? "")"
    }

    /// The same facts for every shape: deployment, revision, resources, who, when.
    static func facts(_ e: AuditEvent) -> [(String, String)] {
        var f: [(String, String)] = []
        if let d = e.deployment { f.append(("Deployment", d)) }
        if let r = e.revision { f.append(("Revision", r)) }
        if !e.resources.isEmpty { f.append(("Resources", e.resources.map(\.name).joined(separator: ", "))) }
        if let a = e.attribution, !a.isEmpty {
            f.append(("Changed by", a.map { who in
                let kind = who.actorType.map { " [\($0)]" } ?? ""
                let from = who.sourceIPAddress.map { " from \($0)" } ?? ""
                return "\(who.userIdentityArn ?? "unknown") (\(who.accessKeyId ?? "?"))\(kind)\(from), \(who.eventName) at \(who.eventTime)"
            }.joined(separator: "; ")))
        } else if let s = e.attributionStatus {
            f.append(("Changed by", s == "pending" ? "not known yet: CloudTrail has not delivered the change" : s))
        }
        if let code = e.errorCode { f.append(("Error", "\(code): \(e.errorMessage ?? "")")) }
        f.append(("Event", "\(e.eventID) at \(e.eventTime)"))
        return f
    }
}

/// Delivers alerts to webhooks from its own task, so a slow or failing receiver never holds up
/// reconciling. Failed deliveries are retried with backoff; URLs never reach the log.
public final class AlertNotifier: Service, Sendable {
    public let webhooks: [AlertWebhook]
    let http: HTTPClient
    let logger: Logger
    let attempts: Int
    let firstDelay: Duration
    private let stream: AsyncStream<AuditEvent>
    private let continuation: AsyncStream<AuditEvent>.Continuation

    public init(urls: [String], http: HTTPClient = .shared, logger: Logger, attempts: Int = 5, firstDelay: Duration = .seconds(1)) {
        webhooks = urls.enumerated().map { AlertWebhook(url: $1, index: $0) }
        self.http = http
        self.logger = logger
        self.attempts = attempts
        self.firstDelay = firstDelay
        (stream, continuation) = AsyncStream.makeStream(of: AuditEvent.self, bufferingPolicy: .bufferingNewest(1000))
    }

    /// Queues an alert; returns at once.
    public func send(_ event: AuditEvent) {
        guard !webhooks.isEmpty else { return }
        continuation.yield(event)
    }

    /// Stops taking alerts; those queued are still delivered.
    public func finish() { continuation.finish() }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for await event in stream {
                    for hook in webhooks { group.addTask { await self.deliver(event, to: hook) } }
                }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    func deliver(_ event: AuditEvent, to hook: AlertWebhook) async {
        var delay = firstDelay
        for attempt in 1...attempts {
            do {
                let r = try await http.send(HTTPRequest(method: "POST", url: hook.url, headers: [("Content-Type", "application/json")],
                                                        body: hook.body(for: event), connectTimeout: .seconds(5), timeout: .seconds(15)))
                if (200..<300).contains(r.status) {
                    logger.debug("alert delivered", metadata: ["webhook": "\(hook.label)", "audit.id": "\(event.eventID)"])
                    return
                }
                logger.warning("alert delivery refused", metadata: ["webhook": "\(hook.label)", "http.status": "\(r.status)", "attempt": "\(attempt)"])
            } catch {
                logger.warning("alert delivery failed", metadata: ["webhook": "\(hook.label)", "error.code": "\(error.code)", "attempt": "\(attempt)"])
            }
            if attempt < attempts {
                try? await Task.sleep(for: delay)
                delay = delay * 2
            }
        }
        logger.error("alert dropped after \(attempts) attempts", metadata: ["webhook": "\(hook.label)", "audit.id": "\(event.eventID)"])
    }
}
