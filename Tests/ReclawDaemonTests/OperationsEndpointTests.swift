import Crypto
import Foundation
import Logging
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawHTTP
import ReclawOperations
import ReclawTestSupport
import ServiceLifecycle
import Synchronization
import Testing

/// The operations endpoint attacked the way the issue describes: long headers, slow headers, huge
/// and endless bodies, too many connections, replayed and stale push notifications, floods.
@Suite struct OperationsEndpointTests {
    final class Pushes: Sendable {
        let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
    }

    /// Runs `body` against a real server on 127.0.0.1, then shuts it down.
    func withServer(limits: OperationsLimits = OperationsLimits(), policy: PushGate.Policy = PushGate.Policy(), secret: String? = "s3cret",
                    metrics: Metrics = Metrics(), now: @escaping @Sendable () -> Date = { Date() },
                    health: @escaping @Sendable () -> HealthReport = { HealthReport(healthy: true, message: "ok") },
                    _ body: (UInt16, Pushes) async throws -> Void) async throws {
        let pushes = Pushes()
        let server = try await OperationsServer(address: "127.0.0.1:0", metrics: metrics, secret: secret, limits: limits, pushPolicy: policy,
                                                logger: Logger(label: "test"), health: health, onPush: { pushes.count.withLock { $0 += 1 } }, now: now)
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body(server.port, pushes)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func healthz(_ port: UInt16) async throws -> (status: Int, seconds: Double) {
        let start = ContinuousClock.now
        let status = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/healthz", timeout: .seconds(20))).status
        return (status, (ContinuousClock.now - start).inSeconds)
    }

    static func github(_ body: String, _ secret: String) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    static func standard(id: String, timestamp: Int, body: String, key: [UInt8]) -> String {
        "v1," + Data(HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))).base64EncodedString()
    }

    func send(_ port: UInt16, _ body: String, _ headers: [(name: String, value: String)]) async throws -> HTTPResponse {
        try await HTTPClient().send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/hooks/git", headers: headers, body: Array(body.utf8)))
    }

    /// The status of a push notification.
    func post(_ port: UInt16, _ body: String, _ headers: [(name: String, value: String)]) async throws -> Int {
        try await send(port, body, headers).status
    }

    // MARK: headers

    @Test func a200KilobyteHeaderIsRefusedAtOnceWhileHealthzStaysFastOnAnotherConnection() async throws {
        let metrics = Metrics()
        try await withServer(metrics: metrics) { port, _ in
            let attack = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + String(repeating: "a", count: 200_000) + "\r\n\r\n"
            async let first = Command.offThread { () -> (String, Bool) in
                let c = try RawConnection(port)
                c.send(attack)
                return c.readUntilClosed(timeout: 20)
            }
            async let second = Command.offThread { () -> Bool in
                let c = try RawConnection(port)
                c.send(attack)
                return c.readUntilClosed(timeout: 20).closed
            }
            // Before the endpoint was hardened, one such header took 29 s of CPU and two stalled /healthz.
            for _ in 0..<5 {
                let h = try await healthz(port)
                #expect(h.status == 200)
            }
            let (text, closed) = try await first
            #expect(closed, "the connection with the long header stayed open")
            // The answer is 431, unless the reset for the unread rest of the header overtook it.
            #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 431"), "\(text.prefix(200))")
            #expect(try await second)
            #expect(!metrics.render().contains(#"reclaw_http_refusals_total{reason="header_too_large"} 0\n"#), "the refusal was not counted")
        }
    }

    @Test func aSlowlorisTricklingHeadersIsAnswered408AndClosedAtTheHeaderDeadline() async throws {
        var limits = OperationsLimits()
        limits.headerTimeout = .seconds(1)
        try await withServer(limits: limits) { port, _ in
            let (response, sentAll) = try await Command.offThread { () -> (String, Bool) in
                let c = try RawConnection(port)
                c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                // One byte every 200 ms for up to 10 s: each byte arrives well within any idle timeout.
                var sentAll = true
                for _ in 0..<50 {
                    usleep(200_000)
                    if !c.send("a") { sentAll = false; break }
                    var p = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
                    if poll(&p, 1, 0) > 0 { sentAll = false; break }
                }
                let (text, _) = c.readUntilClosed(timeout: 5)
                return (text, sentAll)
            }
            #expect(!sentAll, "the server kept reading a header for 10 s")
            #expect(response.hasPrefix("HTTP/1.1 408"), "\(response)")
            let after = try await healthz(port)
            #expect(after.status == 200)
        }
    }

    @Test func anIdleConnectionThatNeverSendsARequestIsClosedAtTheHeaderDeadline() async throws {
        var limits = OperationsLimits()
        limits.headerTimeout = .milliseconds(500)
        try await withServer(limits: limits) { port, _ in
            let closed = try await Command.offThread { try RawConnection(port).closedByPeer(within: 5) }
            #expect(closed)
        }
    }

    // MARK: bodies

    @Test func aDeclared100MegabyteBodyIsRefusedBeforeAnyOfItIsSent() async throws {
        try await withServer { port, pushes in
            let (response, closed) = try await Command.offThread { () -> (RawResponse?, Bool) in
                let c = try RawConnection(port)
                c.send("POST /hooks/git HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
                let response = c.readResponse(timeout: 5)
                return (response, c.closedByPeer(within: 5))
            }
            #expect(response?.status == 413)
            #expect(response?.headers["connection"] == "close")
            #expect(closed)
            #expect(pushes.value == 0)
        }
    }

    @Test func aChunkedBodyIsCutOffAtTheLimit() async throws {
        var limits = OperationsLimits()
        limits.maxBodyBytes = 64 * 1024
        let metrics = Metrics()
        try await withServer(limits: limits, metrics: metrics) { port, pushes in
            let (sent, text) = try await Command.offThread { () -> (Int, String) in
                let c = try RawConnection(port)
                c.send("POST /hooks/git HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x61, count: 0x10000) + Array("\r\n".utf8)
                var sent = 0
                // Up to 256 MiB: far more than the socket buffers hold, so a server that kept reading would take it all.
                while sent < 256 << 20, c.send(chunk) { sent += 0x10000 }
                return (sent, c.readUntilClosed(timeout: 5).text)
            }
            #expect(sent < 256 << 20, "the server read a 256 MiB chunked body")
            #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 413"), "\(text.prefix(200))")
            #expect(pushes.value == 0)
            #expect(metrics.render().contains(#"reclaw_http_refusals_total{reason="body_too_large"} 1"#))
        }
    }

    @Test func aBodyInOneByteChunksIsRefusedWhileOneInOrdinaryChunksIsRead() async throws {
        let metrics = Metrics()
        try await withServer(metrics: metrics) { port, pushes in
            let body = #"{"ref":"refs/heads/main","pad":""# + String(repeating: "a", count: 300_000) + #""}"#
            let signature = Self.github(body, "s3cret")
            func chunked(_ size: Int) -> String {
                var wire = "POST /hooks/git HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: \(signature)\r\nTransfer-Encoding: chunked\r\n\r\n"
                var rest = Substring(body)
                while !rest.isEmpty {
                    let piece = rest.prefix(size)
                    wire += String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n"
                    rest = rest.dropFirst(size)
                }
                return wire + "0\r\n\r\n"
            }
            let (tiny, ordinary) = (chunked(1), chunked(1000))
            let (refused, accepted) = try await Command.offThread { () -> (RawResponse?, RawResponse?) in
                let a = try RawConnection(port)
                a.send(tiny)
                let b = try RawConnection(port)
                b.send(ordinary)
                return (a.readResponse(timeout: 20), b.readResponse(timeout: 20))
            }
            // 413, unless the reset for the unread rest of the body overtook it.
            #expect(refused == nil || refused?.status == 413, "\(String(describing: refused))")
            #expect(accepted?.status == 202, "\(String(describing: accepted))")
            #expect(pushes.value == 1)
            #expect(metrics.render().contains(#"reclaw_http_refusals_total{reason="body_too_fragmented"} 1"#))
        }
    }

    // MARK: connections

    @Test func beyondTheConnectionLimitTheConnectionStuckLongestIsClosedAndHealthzAnswers() async throws {
        var limits = OperationsLimits()
        limits.maxConnections = 4
        let metrics = Metrics()
        try await withServer(limits: limits, metrics: metrics) { port, _ in
            var idle: [RawConnection] = []
            for _ in 0..<4 {
                idle.append(try RawConnection(port))
                try await Task.sleep(for: .milliseconds(100))
            }
            let h = try await healthz(port)
            #expect(h.status == 200)
            let (oldest, newest) = (idle[0], idle[3])
            #expect(try await Command.offThread { oldest.closedByPeer(within: 15) }, "the oldest idle connection was not closed")
            #expect(try await Command.offThread { !newest.closedByPeer(within: 0.3) }, "a newer connection was closed")
            #expect(!metrics.render().contains(#"reclaw_http_refusals_total{reason="too_many_connections"} 0\n"#), "the refusal was not counted")
        }
    }

    // MARK: routes

    @Test func onlyTheThreeRoutesAnswerAndHeadGetsHeadersOnly() async throws {
        let healthy = Mutex(true)
        try await withServer(health: { healthy.withLock { $0 } ? HealthReport(healthy: true, message: "ok") : HealthReport(healthy: false, message: "source unreadable for 3 passes") }) { port, _ in
            let replies = try await Command.offThread { () -> [RawResponse?] in
                let c = try RawConnection(port)
                var replies: [RawResponse?] = []
                for (request, bodyless) in [("GET / HTTP/1.1", false), ("POST /metrics HTTP/1.1", false), ("HEAD /metrics HTTP/1.1", true),
                                            ("HEAD /healthz HTTP/1.1", true), ("GET /hooks/git HTTP/1.1", false), ("GET /metrics?x=1 HTTP/1.1", false)] {
                    c.send(request + "\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                    replies.append(c.readResponse(timeout: 5, bodyless: bodyless))
                }
                return replies
            }
            #expect(replies.map { $0?.status } == [404, 405, 200, 200, 405, 200])
            #expect(replies[1]?.headers["allow"] == "GET, HEAD")
            #expect(replies[2]?.body == "" && Int(replies[2]?.headers["content-length"] ?? "0")! > 100, "HEAD /metrics: \(String(describing: replies[2]))")
            #expect(replies[3]?.body == "" && replies[3]?.headers["content-length"] == "3")
            #expect(replies[4]?.headers["allow"] == "POST")
            #expect(replies[5]?.body.contains("reclaw_build_info") == true)
            healthy.withLock { $0 = false }
            let sick = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/healthz"))
            #expect(sick.status == 503 && sick.bodyText == "source unreadable for 3 passes\n")
        }
    }

    // MARK: push notifications

    @Test func aReplayedGitHubDeliveryIsRefusedByItsIdAndByItsBody() async throws {
        let metrics = Metrics()
        try await withServer(metrics: metrics) { port, pushes in
            let body = #"{"ref":"refs/heads/main","after":"abc"}"#
            let signed: [(name: String, value: String)] = [("X-Hub-Signature-256", Self.github(body, "s3cret")), ("X-GitHub-Event", "push")]
            let other = #"{"ref":"refs/heads/main","after":"def"}"#
            let statuses = [
                try await post(port, body, signed + [("X-GitHub-Delivery", "d-1")]),
                try await post(port, body, signed + [("X-GitHub-Delivery", "d-1")]),
                // A new delivery id does not make the same signed body new,
                try await post(port, body, signed + [("X-GitHub-Delivery", "d-2")]),
                try await post(port, body, signed),
                // nor does a new body make a delivery id seen before new.
                try await post(port, other, [("X-Hub-Signature-256", Self.github(other, "s3cret")), ("X-GitHub-Delivery", "d-1")]),
            ]
            #expect(statuses == [202, 409, 409, 409, 409])
            #expect(pushes.value == 1)
            #expect(metrics.render().contains(#"reclaw_http_refusals_total{reason="replayed"} 4"#))
        }
    }

    @Test func aGitHubPushWhosePushedAtIsOutsideTheWindowIsRefused() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try await withServer(now: { now }) { port, pushes in
            func push(_ pushedAt: Int) -> String { #"{"ref":"refs/heads/main","repository":{"pushed_at":\#(pushedAt)}}"# }
            let (old, future, fresh) = (push(1_800_000_000 - 301), push(1_800_000_000 + 301), push(1_800_000_000 - 10))
            let statuses = [
                try await post(port, old, [("X-Hub-Signature-256", Self.github(old, "s3cret"))]),
                try await post(port, future, [("X-Hub-Signature-256", Self.github(future, "s3cret"))]),
                try await post(port, fresh, [("X-Hub-Signature-256", Self.github(fresh, "s3cret"))]),
            ]
            #expect(statuses == [400, 400, 202])
            // A ping is answered and fetches nothing.
            let ping = #"{"zen":"Keep it logically awesome.","repository":{"pushed_at":"2020-01-01T00:00:00Z"}}"#
            let pong = try await send(port, ping, [("X-Hub-Signature-256", Self.github(ping, "s3cret")), ("X-GitHub-Event", "ping")])
            #expect(pong.status == 200 && pong.bodyText == "pong\n")
            #expect(pushes.value == 1)
        }
    }

    @Test func standardWebhooksAreCheckedForSignatureTimestampAndId() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let key = (0..<32).map { UInt8($0 * 7 & 0xff) }
        let secret = "whsec_" + Data(key).base64EncodedString()
        try await withServer(secret: secret, now: { now }) { port, pushes in
            let body = #"{"type":"push"}"#
            func headers(_ id: String, _ ts: Int, signature: String? = nil) -> [(name: String, value: String)] {
                [("webhook-id", id), ("webhook-timestamp", "\(ts)"), ("webhook-signature", signature ?? "v1,bm90IGl0 " + Self.standard(id: id, timestamp: ts, body: body, key: key))]
            }
            let t = 1_800_000_000
            let statuses = [
                try await post(port, body, headers("msg_1", t)),
                try await post(port, body, headers("msg_1", t)),
                try await post(port, body, headers("msg_2", t - 301)),
                try await post(port, body, headers("msg_3", t + 301)),
                try await post(port, body, headers("msg_4", t, signature: Self.standard(id: "msg_4", timestamp: t, body: body, key: Array("wrong".utf8)))),
                // The timestamp is signed: a moved one breaks the signature.
                try await post(port, body, headers("msg_5", t, signature: Self.standard(id: "msg_5", timestamp: t - 1000, body: body, key: key))),
                try await post(port, body, [("webhook-id", "msg_6"), ("webhook-signature", "v1,xx")]),
                try await post(port, body, headers("msg_7", t + 200)),
            ]
            #expect(statuses == [202, 409, 400, 400, 401, 401, 400, 202])
            #expect(pushes.value == 2)
        }
    }

    @Test func acceptedPushesAreRateLimitedWith429AndRetryAfter() async throws {
        var policy = PushGate.Policy()
        policy.burst = 3
        policy.perSecond = 0.001
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try await withServer(policy: policy, now: { now }) { port, pushes in
            var statuses: [Int] = []
            var retryAfter: String?
            for i in 0..<6 {
                let body = #"{"ref":"refs/heads/main","after":"\#(i)"}"#
                let r = try await send(port, body, [("X-Hub-Signature-256", Self.github(body, "s3cret")), ("X-GitHub-Delivery", "d-\(i)")])
                statuses.append(r.status)
                if r.status == 429 { retryAfter = r.headers.first { $0.name.lowercased() == "retry-after" }?.value }
            }
            #expect(statuses == [202, 202, 202, 429, 429, 429])
            #expect(retryAfter == "1")
            #expect(pushes.value == 3)
            // A push refused for the rate is not remembered: sent again later, it is accepted.
        }
    }

    @Test func unsignedAndWronglySignedPushesAreRefusedAndLoggedOncePerReason() async throws {
        let lines = CapturedLines()
        let pushes = Pushes()
        // A clock that stands still: however long a loaded machine takes, the minute between repeats does not pass.
        let server = try await OperationsServer(address: "127.0.0.1:0", metrics: Metrics(), secret: "s3cret",
                                                logger: lines.logger(label: "test"),
                                                health: { HealthReport(healthy: true, message: "ok") }, onPush: { pushes.count.withLock { $0 += 1 } },
                                                now: { Date(timeIntervalSince1970: 1_800_000_000) })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let body = "{}"
            var statuses = Set<Int>()
            for _ in 0..<50 {
                statuses.insert(try await post(server.port, body, []))
                statuses.insert(try await post(server.port, body, [("X-Hub-Signature-256", Self.github(body, "nope"))]))
            }
            #expect(statuses == [401])
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let refusals = lines.all.filter { $0.contains("refused") }
        #expect(refusals.count == 2, "\(refusals)")
        #expect(pushes.value == 0)
    }
}
