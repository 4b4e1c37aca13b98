import Foundation
import Logging
internal import NIOCore
internal import NIOHTTP1
import Synchronization

/// What every connection of the operations endpoint shares: the limits, the push gate, the
/// refusal log and the table of open connections.
final class Endpoint: Sendable {
    let limits: OperationsLimits
    let metrics: Metrics
    let gate: PushGate
    let refusals: RefusalLog
    let health: @Sendable () -> HealthReport
    let onPush: @Sendable () -> Void
    let logger: Logger
    let connections: ConnectionTable

    init(limits: OperationsLimits, metrics: Metrics, gate: PushGate, refusals: RefusalLog, health: @escaping @Sendable () -> HealthReport,
         onPush: @escaping @Sendable () -> Void, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.gate = gate
        self.refusals = refusals
        self.health = health
        self.onPush = onPush
        self.logger = logger
        connections = ConnectionTable(limit: limits.maxConnections)
    }

    /// Counts a refusal in the metrics and the (rate-limited) log.
    func refused(_ reason: String, _ message: String, peer: String?) {
        metrics.httpRefused(reason: reason)
        refusals.refused(reason, message, metadata: peer.map { ["http.peer": "\($0)"] } ?? [:])
    }

    /// The client's address as `IP:PORT`, for the log.
    static func peer(_ channel: any Channel) -> String? {
        channel.remoteAddress.map(OperationsServer.text)
    }

    /// Sets up an accepted connection: room is made for it, then its pipeline is built.
    func accept(_ channel: any Channel) -> EventLoopFuture<Void> {
        if let evicted = connections.admit(channel) {
            evicted.close(promise: nil)
            refused("too_many_connections", "too many connections: closed the one that waited longest for a whole request",
                    peer: Self.peer(evicted))
        }
        let table = connections
        channel.closeFuture.whenComplete { _ in table.remove(channel) }
        return channel.eventLoop.makeCompletedFuture {
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderFieldCount = 128
            let deadlines = RequestDeadlines(endpoint: self)
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(deadlines)
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop,
                                                                        limitConfiguration: decoderLimits)))
            try sync.addHandler(HTTPResponseEncoder())
            try sync.addHandler(RequestHandler(endpoint: self, deadlines: deadlines))
        }
    }
}

/// The open connections, and when each last made progress (connected, sent a whole request, or
/// was answered). At the limit, a new connection closes the one stuck longest.
final class ConnectionTable: Sendable {
    let limit: Int
    private let open = Mutex<[ObjectIdentifier: (channel: any Channel, since: NIODeadline)]>([:])

    init(limit: Int) { self.limit = max(1, limit) }

    /// Admits `channel`; returns the connection to close to make room, if any.
    func admit(_ channel: any Channel) -> (any Channel)? {
        open.withLock { table in
            var evicted: (any Channel)?
            if table.count >= limit, let oldest = table.min(by: { $0.value.since < $1.value.since }) {
                table[oldest.key] = nil
                evicted = oldest.value.channel
            }
            table[ObjectIdentifier(channel)] = (channel, .now())
            return evicted
        }
    }

    func progressed(_ channel: any Channel) {
        open.withLock { table in
            let id = ObjectIdentifier(channel)
            if table[id] != nil { table[id]!.since = .now() }
        }
    }

    func remove(_ channel: any Channel) {
        _ = open.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var count: Int { open.withLock { $0.count } }

    func closeAll() {
        for channel in open.withLock({ $0.values.map(\.channel) }) { channel.close(promise: nil) }
    }
}

/// The first handler of a connection, on its raw bytes: it enforces the header, body and idle
/// deadlines, and answers a client too slow for them with 408 before closing.
final class RequestDeadlines: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase { case head, body, answering, idle, closed }

    let endpoint: Endpoint
    private var phase = Phase.head
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(endpoint: Endpoint) { self.endpoint = endpoint }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm(endpoint.limits.headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase == .closed { return }
        if phase == .idle {
            // The first byte of the next request: it has the header deadline from now.
            phase = .head
            arm(endpoint.limits.headerTimeout)
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        timer?.cancel()
        context.fireChannelInactive()
    }

    /// The request handler saw a whole head.
    func headReceived() {
        phase = .body
        arm(endpoint.limits.bodyTimeout)
    }

    /// The request handler has the whole request and answers it now.
    func requestReceived() {
        phase = .answering
        timer?.cancel()
        if let channel = context?.channel { endpoint.connections.progressed(channel) }
    }

    /// The answer is written and the connection stays open for the next request.
    func answered() {
        phase = .idle
        arm(endpoint.limits.idleTimeout)
        if let channel = context?.channel { endpoint.connections.progressed(channel) }
    }

    /// No more requests on this connection: it closes once the answer is written.
    func closing() {
        phase = .closed
        timer?.cancel()
    }

    private func arm(_ delay: Duration) {
        timer?.cancel()
        guard let context else { return }
        let nanoseconds = Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] in
            self?.expired()
        }
    }

    private func expired() {
        guard let context else { return }
        let peer = Endpoint.peer(context.channel)
        switch phase {
        case .head, .body:
            let what = phase == .head ? "header" : "body"
            endpoint.refused("\(what)_timeout", "a request's \(what) did not arrive in time; closed the connection", peer: peer)
            phase = .closed
            let text = "request \(what) timeout\n"
            let response = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n\(text)"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .idle:
            phase = .closed
            context.close(promise: nil)
        case .answering, .closed:
            break
        }
    }
}

@available(*, unavailable)
extension RequestDeadlines: Sendable {}

/// Routes and answers requests: `/healthz`, `/metrics` and `POST /hooks/git`; bodies are bounded
/// before they are read, and reading stops while the client is not reading its answers.
final class RequestHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum Route: Equatable { case health, metrics, hook, notFound, methodNotAllowed(String) }

    struct Request {
        var head: HTTPRequestHead
        var route: Route
        var limit: Int
        var received = 0
        var parts = 0
        var body: [UInt8] = []
    }

    enum State { case waiting, receiving(Request), closing }

    let endpoint: Endpoint
    let deadlines: RequestDeadlines
    private var state = State.waiting
    private var readPending = false

    init(endpoint: Endpoint, deadlines: RequestDeadlines) {
        self.endpoint = endpoint
        self.deadlines = deadlines
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closing = state { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            deadlines.headReceived()
            let route = Self.route(head)
            let limit = route == .hook ? endpoint.limits.maxBodyBytes : endpoint.limits.maxOtherBodyBytes
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > limit {
                return tooLarge(context, head, limit: limit)
            }
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            state = .receiving(Request(head: head, route: route, limit: limit))
        case .body(let chunk):
            guard case .receiving(var request) = state else { return }
            // Drop the state's reference first, so appending never copies the body (a body in
            // many tiny chunks would otherwise cost quadratic time).
            state = .waiting
            request.received += chunk.readableBytes
            request.parts += 1
            if request.received > request.limit { return tooLarge(context, request.head, limit: request.limit) }
            if request.parts > endpoint.limits.maxBodyParts {
                endpoint.refused("body_too_fragmented", "a request body came in more than \(endpoint.limits.maxBodyParts) pieces", peer: Endpoint.peer(context.channel))
                return respond(context, request.head, status: .payloadTooLarge, text: "request body in too many pieces\n", close: true)
            }
            if request.route == .hook { request.body.append(contentsOf: chunk.readableBytesView) }
            state = .receiving(request)
        case .end:
            guard case .receiving(let request) = state else { return }
            state = .waiting
            deadlines.requestReceived()
            answer(context, request)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .closing = state { return }
        // A connection already closed (a deadline, or the client leaving mid-request) has no one to answer.
        guard context.channel.isActive else { return }
        let peer = Endpoint.peer(context.channel)
        if let parse = error as? HTTPParserError {
            if parse == .headerOverflow {
                endpoint.refused("header_too_large", "a request's headers exceeded \(endpoint.limits.maxHeaderBytes) bytes", peer: peer)
                respond(context, nil, status: .requestHeaderFieldsTooLarge, text: "request headers too large\n", close: true)
            } else {
                endpoint.refused("bad_request", "a request could not be parsed (\(parse))", peer: peer)
                respond(context, nil, status: .badRequest, text: "bad request\n", close: true)
            }
        } else {
            state = .closing
            deadlines.closing()
            context.close(promise: nil)
        }
    }

    // Reading stops while the client does not read its answers, so pipelined requests cannot pile up.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable { context.read() } else { readPending = true }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    static func route(_ head: HTTPRequestHead) -> Route {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        switch path {
        case "/healthz": return [.GET, .HEAD].contains(head.method) ? .health : .methodNotAllowed("GET, HEAD")
        case "/metrics": return [.GET, .HEAD].contains(head.method) ? .metrics : .methodNotAllowed("GET, HEAD")
        case "/hooks/git": return head.method == .POST ? .hook : .methodNotAllowed("POST")
        default: return .notFound
        }
    }

    private func tooLarge(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, limit: Int) {
        endpoint.refused("body_too_large", "a request body exceeded \(limit) bytes", peer: Endpoint.peer(context.channel))
        respond(context, head, status: .payloadTooLarge, text: "request body larger than \(limit) bytes\n", close: true)
    }

    private func answer(_ context: ChannelHandlerContext, _ request: Request) {
        let head = request.head
        let peer = Endpoint.peer(context.channel)
        switch request.route {
        case .health:
            let report = endpoint.health()
            respond(context, head, status: report.healthy ? .ok : .serviceUnavailable, text: report.healthy ? "ok\n" : report.message + "\n")
        case .metrics:
            respond(context, head, status: .ok, text: endpoint.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case .notFound:
            endpoint.refused("not_found", "a request for an unknown path", peer: peer)
            respond(context, head, status: .notFound, text: "not found: /healthz, /metrics and POST /hooks/git are served\n")
        case .methodNotAllowed(let allow):
            endpoint.refused("method_not_allowed", "a request with a method the path does not take", peer: peer)
            respond(context, head, status: .methodNotAllowed, text: "method not allowed\n", extra: [("Allow", allow)])
        case .hook:
            var headers: [String: String] = [:]
            for (name, value) in head.headers where headers[name.lowercased()] == nil { headers[name.lowercased()] = value }
            switch endpoint.gate.decide(headers: headers, body: request.body) {
            case .accepted(let scheme, let delivery):
                endpoint.metrics.pushAccepted()
                endpoint.logger.info("push notification received; fetching now", metadata: ["hook.scheme": "\(scheme)", "hook.delivery": "\(delivery ?? "none")"])
                endpoint.onPush()
                respond(context, head, status: .accepted, text: "fetching\n")
            case .ping:
                respond(context, head, status: .ok, text: "pong\n")
            case .refused(let refusal):
                endpoint.refused(refusal.rawValue, "a push notification was refused: \(refusal.message)", peer: peer)
                respond(context, head, status: HTTPResponseStatus(statusCode: refusal.status), text: refusal.message + "\n",
                        extra: refusal == .rateLimited ? [("Retry-After", "1")] : [])
            }
        }
    }

    /// Writes a whole answer; a HEAD request gets its headers only. With `close`, or when the
    /// client asked for it, the connection closes once the answer is written.
    private func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead?, status: HTTPResponseStatus, text: String,
                         contentType: String = "text/plain; charset=utf-8", extra: [(String, String)] = [], close: Bool = false) {
        let keepAlive = !close && (request?.isKeepAlive ?? false)
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(text.utf8.count)")] + extra)
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request?.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let version = request.map { $0.version.major == 1 && $0.version.minor == 0 ? HTTPVersion.http1_0 : .http1_1 } ?? .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if request?.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            deadlines.answered()
        } else {
            state = .closing
            deadlines.closing()
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension RequestHandler: Sendable {}
