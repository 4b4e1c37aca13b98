import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawHTTP
import ReclawJSON
import ReclawOperations
import ServiceLifecycle
import ReclawTime

/// Where an alert goes, and in which shape.
public struct AlertWebhook: Sendable {
    public enum Kind: String, Sendable { case generic, slack, discord }

    public let url: String
    public let kind: Kind
    /// How the webhook is named in logs: never its URL, which holds a secret.
    public let label: String

    /// `url` may name its format in the scheme: `slack+https://…`, `discord+https://…` or
    /// `generic+https://…` (the prefix is not sent); otherwise Slack and Discord are known by host.
    /// An unknown prefix falls back to the generic format; `format(of:)` reports it.
    public init(url: String, index: Int) {
        let chosen = try? Self.format(of: url)
        self.url = chosen?.url ?? url
        kind = chosen?.kind ?? Self.kind(of: url)
        label = "alert webhook #\(index + 1) (\(kind.rawValue))"
    }

    /// A webhook's format prefix that reclaw does not know (`teams+https://…`).
    public struct UnknownFormat: Error, CustomStringConvertible {
        public let prefix: String
        public var description: String {
            "unknown alert webhook format '\(prefix)+': use slack+, discord+ or generic+ before http(s)://"
        }
    }

    /// The format an operator chose with a `FORMAT+http(s)://` scheme and the URL without it;
    /// nil when the URL names no format.
    public static func format(of spec: String) throws(UnknownFormat) -> (kind: Kind, url: String)? {
        guard let colon = spec.firstIndex(of: ":"), let plus = spec[..<colon].firstIndex(of: "+") else { return nil }
        let prefix = String(spec[..<plus])
        let rest = String(spec[spec.index(after: plus)...])
        guard let kind = Kind(rawValue: prefix.lowercased()) else { throw UnknownFormat(prefix: prefix) }
        return (kind, rest)
    }

    /// Slack and Discord are recognized by their webhook hosts exactly (`notdiscord.com` is not
    /// Discord); everything else gets the event's JSON.
    static func kind(of url: String) -> Kind {
        guard let parts = URLComponents(string: url), let host = parts.host?.lowercased() else { return .generic }
        if ["hooks.slack.com", "hooks.slack-gov.com"].contains(host) { return .slack }
        let discordHosts = ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"]
        if discordHosts.contains(host) && parts.path.hasPrefix("/api/webhooks/") { return .discord }
        return .generic
    }

    /// The request body: the event's JSON for a generic receiver, a Slack or Discord message otherwise.
    public func body(for event: AuditEvent) -> [UInt8] {
        switch kind {
        case .generic: return Array(event.jsonLine.utf8)
        case .slack: return Array(SlackMessage.payload(event).description.utf8)
        case .discord: return Array(DiscordMessage.payload(event).description.utf8)
        }
    }

    /// One delivery attempt's request. A generic receiver also gets the delivery id (the event's,
    /// the same on every retry), the attempt's time and the event type, and with a signer the
    /// signatures of `WebhookSigner`.
    public func request(for event: AuditEvent, signer: WebhookSigner?, now: Date) -> HTTPRequest {
        let body = body(for: event)
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("User-Agent", "reclaw/\(ReclawVersion.string)")]
        if kind == .generic {
            let timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
            headers += [("webhook-id", event.eventID), ("webhook-timestamp", String(timestamp)),
                        ("X-Reclaw-Delivery", event.eventID), ("X-Reclaw-Event", event.eventType.rawValue)]
            if let signer { headers += signer.headers(id: event.eventID, timestamp: timestamp, body: body) }
        }
        return HTTPRequest(method: "POST", url: url, headers: headers, body: body, connectTimeout: .seconds(5), timeout: .seconds(15))
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
    /// Signs what generic webhooks receive; nil sends them unsigned.
    let signer: WebhookSigner?
    let now: @Sendable () -> Date
    let metrics: Metrics?
    private let stream: AsyncStream<AuditEvent>
    private let continuation: AsyncStream<AuditEvent>.Continuation

    /// `metrics` counts each attempt's outcome (delivered, refused, failed) and each alert dropped;
    /// `signer` signs generic deliveries; `now` is the clock of their timestamps.
    public init(urls: [String], http: HTTPClient = .shared, logger: Logger, attempts: Int = 5, firstDelay: Duration = .seconds(1),
                metrics: Metrics? = nil, signer: WebhookSigner? = nil, now: @escaping @Sendable () -> Date = { Clocks.date() }) {
        webhooks = urls.enumerated().map { AlertWebhook(url: $1, index: $0) }
        self.signer = signer
        self.now = now
        self.http = http
        self.logger = logger
        self.attempts = attempts
        self.firstDelay = firstDelay
        self.metrics = metrics
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
            // Discarding, so each delivery's task is freed when it ends, not when the daemon does.
            await withDiscardingTaskGroup { group in
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
                // Signed again on every attempt: the signed time is the attempt's.
                let r = try await http.send(hook.request(for: event, signer: signer, now: now()))
                if (200..<300).contains(r.status) {
                    metrics?.alertDelivery(outcome: "delivered")
                    logger.debug("alert delivered", metadata: ["webhook": "\(hook.label)", "audit.id": "\(event.eventID)"])
                    return
                }
                metrics?.alertDelivery(outcome: "refused")
                logger.warning("alert delivery refused", metadata: ["webhook": "\(hook.label)", "http.status": "\(r.status)", "attempt": "\(attempt)"])
            } catch {
                metrics?.alertDelivery(outcome: "failed")
                logger.warning("alert delivery failed", metadata: ["webhook": "\(hook.label)", "error.code": "\(error.code)", "attempt": "\(attempt)"])
            }
            if attempt < attempts {
                try? await Clocks.sleep(for: delay)
                delay = delay * 2
            }
        }
        metrics?.alertDelivery(outcome: "dropped")
        logger.error("alert dropped after \(attempts) attempts", metadata: ["webhook": "\(hook.label)", "audit.id": "\(event.eventID)"])
    }
}
