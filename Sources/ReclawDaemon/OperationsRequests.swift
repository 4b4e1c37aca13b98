import Foundation
import Logging
internal import NIOCore
internal import NIOHTTP1

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
            // Healthy or not, the message names every stalled deployment with its reason.
            respond(context, head, status: report.healthy ? .ok : .serviceUnavailable, text: report.message + "\n")
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
