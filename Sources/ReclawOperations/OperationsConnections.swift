import Foundation
import Logging
internal import NIOCore
internal import NIOHTTP1
import ReclawController
import Synchronization
import ReclawTime

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
    private let open = Mutex<[ObjectIdentifier: (channel: any Channel, since: Duration)]>([:])
    /// The server's clock (NIO's threads have no task to ask).
    private let clock: any TimeSource

    init(limit: Int, clock: any TimeSource = Clocks.current) {
        self.limit = max(1, limit)
        self.clock = clock
    }

    /// Admits `channel`; returns the connection to close to make room, if any.
    func admit(_ channel: any Channel) -> (any Channel)? {
        open.withLock { table in
            var evicted: (any Channel)?
            if table.count >= limit, let oldest = table.min(by: { $0.value.since < $1.value.since }) {
                table[oldest.key] = nil
                evicted = oldest.value.channel
            }
            table[ObjectIdentifier(channel)] = (channel, clock.now())
            return evicted
        }
    }

    func progressed(_ channel: any Channel) {
        open.withLock { table in
            let id = ObjectIdentifier(channel)
            if table[id] != nil { table[id]!.since = clock.now() }
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
/// deadlines; a client too slow for them is answered 408 (by the request handler, after the
/// answers before it) and closed. A client that leaves its answers unread has the idle deadline.
final class RequestDeadlines: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Sent down the pipeline when a request's header or body deadline passes.
    struct TimedOut { var what: String }

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

    /// Answers wait for the client to read those before them: it has the idle deadline to do so.
    func stalled() {
        guard phase == .answering else { return }
        phase = .idle
        arm(endpoint.limits.idleTimeout)
    }

    /// No more requests on this connection: it closes once the answer is written, or when the
    /// idle deadline passes first (a client that does not read it).
    func closing() {
        phase = .closed
        arm(endpoint.limits.idleTimeout)
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
            closing()
            context.fireUserInboundEventTriggered(TimedOut(what: what))
        case .idle, .closed:
            phase = .closed
            context.close(promise: nil)
        case .answering:
            break
        }
    }
}

@available(*, unavailable)
extension RequestDeadlines: Sendable {}
