import Foundation
import Logging
internal import NIOCore
internal import NIOHTTP1

/// Routes and answers requests: `/healthz`, `/metrics` and `POST /hooks/git`; bodies are bounded
/// before they are read. Answers are written in order and only while the client reads them: a
/// connection with `maxUnansweredRequests` unanswered requests, or more than `maxUnsentBytes` of
/// answers not yet sent, is not read until that drains (`OperationsLimits`).
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
    /// Answers waiting for the channel to become writable.
    private var queued = CircularBuffer<Answer>()
    /// Requests whose answer is queued, or written but not yet handed to the network.
    private var unanswered = 0
    private var readPending = false
    private var writing = false

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
            if head.headers.first(name: "expect")?.lowercased() == "100-continue", unanswered == 0 {
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
                return enqueue(context, Answer(request: request.head, status: .payloadTooLarge, content: .text("request body in too many pieces\n"), close: true))
            }
            if request.route == .hook { request.body.append(contentsOf: chunk.readableBytesView) }
            state = .receiving(request)
        case .end:
            guard case .receiving(let request) = state else { return }
            state = .waiting
            deadlines.requestReceived()
            enqueue(context, answer(context, request))
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
                enqueue(context, Answer(status: .requestHeaderFieldsTooLarge, content: .text("request headers too large\n"), close: true))
            } else {
                endpoint.refused("bad_request", "a request could not be parsed (\(parse))", peer: peer)
                enqueue(context, Answer(status: .badRequest, content: .text("bad request\n"), close: true))
            }
        } else {
            state = .closing
            deadlines.closing()
            context.close(promise: nil)
        }
    }

    /// Answers still queued are never written: they are no longer counted.
    func channelInactive(context: ChannelHandlerContext) {
        endpoint.metrics.httpUnanswered(-queued.count)
        unanswered -= queued.count
        queued.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let timeout = event as? RequestDeadlines.TimedOut else { return context.fireUserInboundEventTriggered(event) }
        if case .closing = state { return }
        enqueue(context, Answer(status: .requestTimeout, content: .text("request \(timeout.what) timeout\n"), close: true))
    }

    /// Reads only while the client reads its answers (see the type's comment).
    func read(context: ChannelHandlerContext) {
        if mayRead(context) {
            context.read()
        } else if !readPending {
            readPending = true
            endpoint.metrics.httpReadsPaused()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            writeQueued(context)
            readIfAllowed(context)
        }
        context.fireChannelWritabilityChanged()
    }

    private func mayRead(_ context: ChannelHandlerContext) -> Bool {
        context.channel.isWritable && unanswered < endpoint.limits.maxUnansweredRequests
    }

    private func readIfAllowed(_ context: ChannelHandlerContext) {
        guard readPending, context.channel.isActive, mayRead(context) else { return }
        readPending = false
        context.read()
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
        enqueue(context, Answer(request: head, status: .payloadTooLarge, content: .text("request body larger than \(limit) bytes\n"), close: true))
    }

    /// Decides the answer to a whole request now (a push notification takes effect at once); only
    /// its writing waits for the client.
    private func answer(_ context: ChannelHandlerContext, _ request: Request) -> Answer {
        let head = request.head
        let peer = Endpoint.peer(context.channel)
        switch request.route {
        case .health:
            let report = endpoint.health()
            // Healthy or not, the message names every stalled deployment with its reason.
            return Answer(request: head, status: report.healthy ? .ok : .serviceUnavailable, content: .text(report.message + "\n"))
        case .metrics:
            return Answer(request: head, status: .ok, content: .metrics, contentType: "text/plain; version=0.0.4; charset=utf-8")
        case .notFound:
            endpoint.refused("not_found", "a request for an unknown path", peer: peer)
            return Answer(request: head, status: .notFound, content: .text("not found: /healthz, /metrics and POST /hooks/git are served\n"))
        case .methodNotAllowed(let allow):
            endpoint.refused("method_not_allowed", "a request with a method the path does not take", peer: peer)
            return Answer(request: head, status: .methodNotAllowed, content: .text("method not allowed\n"), extra: [("Allow", allow)])
        case .hook:
            var headers: [String: String] = [:]
            for (name, value) in head.headers where headers[name.lowercased()] == nil { headers[name.lowercased()] = value }
            switch endpoint.gate.decide(headers: headers, body: request.body) {
            case .accepted(let scheme, let delivery):
                endpoint.metrics.pushAccepted()
                endpoint.logger.info("push notification received; fetching now", metadata: ["hook.scheme": "\(scheme)", "hook.delivery": "\(delivery ?? "none")"])
                endpoint.onPush()
                return Answer(request: head, status: .accepted, content: .text("fetching\n"))
            case .ping:
                return Answer(request: head, status: .ok, content: .text("pong\n"))
            case .refused(let refusal):
                endpoint.refused(refusal.rawValue, "a push notification was refused: \(refusal.message)", peer: peer)
                return Answer(request: head, status: HTTPResponseStatus(statusCode: refusal.status), content: .text(refusal.message + "\n"),
                              extra: refusal == .rateLimited ? [("Retry-After", "1")] : [])
            }
        }
    }

    /// Queues an answer and writes what the channel takes. An answer that closes the connection
    /// is the last: nothing more is read into a request.
    private func enqueue(_ context: ChannelHandlerContext, _ answer: Answer) {
        if !answer.keepAlive { state = .closing }
        unanswered += 1
        endpoint.metrics.httpUnanswered(1)
        queued.append(answer)
        writeQueued(context)
    }

    /// Writes queued answers while the channel is writable; the client has the idle deadline to
    /// read enough of them for the rest to be written.
    private func writeQueued(_ context: ChannelHandlerContext) {
        guard !writing else { return }
        writing = true
        defer { writing = false }
        while context.channel.isWritable, let answer = queued.popFirst() {
            write(context, answer)
        }
        if !queued.isEmpty { deadlines.stalled() }
    }

    private func write(_ context: ChannelHandlerContext, _ answer: Answer) {
        let (head, body) = answer.parts(metrics: endpoint.metrics, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let keepAlive = answer.keepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            self.unanswered -= 1
            self.endpoint.metrics.httpUnanswered(-1)
            if keepAlive { self.readIfAllowed(context) } else { context.close(promise: nil) }
        }
        if keepAlive { deadlines.answered() } else { deadlines.closing() }
    }
}

@available(*, unavailable)
extension RequestHandler: Sendable {}
