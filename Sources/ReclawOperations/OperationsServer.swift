import Foundation
import Logging
internal import NIOCore
internal import NIOPosix
import ReclawController
import ServiceLifecycle
import Synchronization
import ReclawTime

/// The bounds that keep the endpoint safe to expose: whatever a client sends, it holds a bounded
/// amount of memory for a bounded time, and the daemon's own work never waits for it.
public struct OperationsLimits: Sendable {
    /// Connections open at once; a new one beyond this closes the one that has waited longest
    /// without sending a whole request (a slow client holds no slot for long).
    public var maxConnections = 64
    /// The request line and headers together; more is answered 431 and closed.
    public var maxHeaderBytes = 16 * 1024
    /// A push notification's body; a larger Content-Length is answered 413 before any of it is read,
    /// a chunked body is cut off at this size.
    public var maxBodyBytes = 1024 * 1024
    /// The body of the other routes, which take none.
    public var maxOtherBodyBytes = 16 * 1024
    /// Pieces (chunks, or reads) a body may come in: each costs the event loop a little, so a body
    /// in one-byte chunks is refused (413) long before it could keep a thread busy.
    public var maxBodyParts = 16 * 1024
    /// From a request's first byte (or a new connection) to the end of its headers.
    public var headerTimeout: Duration = .seconds(10)
    /// From the end of the headers to the end of the body.
    public var bodyTimeout: Duration = .seconds(10)
    /// How long a kept-alive connection may wait for its next request, and how long a client may
    /// leave its answers unread before its connection is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Backpressure: requests of one connection whose answers are not yet handed to the network.
    /// At this many, reclaw stops reading the connection until the client reads its answers.
    public var maxUnansweredRequests = 16
    /// Backpressure: answers of one connection written but not yet handed to the network (the
    /// write buffer's high water mark). Above it no more answers are written and the connection is
    /// not read; both resume when it falls below half. One answer may overshoot it by its size.
    public var maxUnsentBytes = 64 * 1024
    /// Backpressure: the most bytes read from a connection at once (one read per wake-up), so the
    /// whole requests read past `maxUnansweredRequests` are a few hundred at most.
    public var maxReadBytes = 4 * 1024
    /// Backpressure: the kernel's send buffer of each connection (SO_SNDBUF; Linux doubles it),
    /// so unread answers held by the kernel are bounded too.
    public var socketSendBufferBytes = 64 * 1024
    public init() {}
}

/// The daemon's HTTP endpoint, on SwiftNIO: `GET|HEAD /healthz`, `GET|HEAD /metrics`
/// (Prometheus) and `POST /hooks/git`, a push notification that triggers an immediate fetch when
/// its signature, freshness and novelty pass the `PushGate`. Everything else is 404 or 405.
///
/// The address is bound when the server is made, so a taken port is an error at startup, not later.
/// Requests are served on NIO's event loop threads, never on the daemon's tasks, within the
/// `OperationsLimits`.
public final class OperationsServer: Service, Sendable {
    /// The port served (port 0 in the address is a free port chosen at bind time).
    public let port: UInt16
    /// The addresses listened on, as `IP:PORT`.
    public let listening: [String]
    let channels: [any Channel]
    let endpoint: Endpoint

    /// `address` as `--metrics-address` takes it; `secret` is the shared push notification secret
    /// (nil or empty: every push is refused, since anyone can sign with an empty key). `health`
    /// and `onPush` run on an event loop thread and must return at once.
    public init(address: String, metrics: Metrics, secret: String?, limits: OperationsLimits = OperationsLimits(),
                pushPolicy: PushGate.Policy = PushGate.Policy(), logger: Logger,
                health: @escaping @Sendable () -> HealthReport, onPush: @escaping @Sendable () -> Void,
                now: @escaping @Sendable () -> Date = { Clocks.date() }) async throws {
        let parsed = try ListenAddress(parsing: address)
        endpoint = Endpoint(limits: limits, metrics: metrics, gate: try PushGate(secret: secret, policy: pushPolicy, now: now),
                            refusals: RefusalLog(logger: logger, now: now), health: health, onPush: onPush, logger: logger)
        let bound = try await Self.bind(parsed, endpoint: endpoint)
        channels = bound
        port = UInt16(bound.first?.localAddress?.port ?? parsed.port)
        listening = bound.compactMap { $0.localAddress.map(Self.text) }
        logger.info("serving /healthz, /metrics and POST /hooks/git", metadata: ["http.address": "\(listening.joined(separator: " "))"])
    }

    /// Serves until a graceful shutdown or cancellation, then closes the listeners and every
    /// connection still open. Listeners that close on their own are an error: the endpoint must not
    /// vanish unnoticed.
    public func run() async throws {
        let channels = self.channels
        let connections = endpoint.connections
        let stopping = Mutex(false)
        await withTaskCancellationOrGracefulShutdownHandler {
            for channel in channels { try? await channel.closeFuture.get() }
        } onCancelOrGracefulShutdown: {
            stopping.withLock { $0 = true }
            for channel in channels { channel.close(promise: nil) }
            connections.closeAll()
        }
        if !stopping.withLock({ $0 }) {
            connections.closeAll()
            throw OperationsServerError(.cannotListen, "the operations endpoint stopped listening on \(listening.joined(separator: " "))")
        }
    }

    /// The port; the server listens from the moment it is made.
    public func waitUntilListening(timeout: TimeInterval = 30) async throws -> UInt16 { port }

    // MARK: binding

    static func bind(_ address: ListenAddress, endpoint: Endpoint) async throws -> [any Channel] {
        let ips = try address.candidateIPs()
        var bound: [any Channel] = []
        var port = address.port
        var failures: [String] = []
        for ip in ips {
            // Every interface: `::` serves IPv4 too; `0.0.0.0` only where IPv6 is missing.
            if address.host == nil, !bound.isEmpty { break }
            let target = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
            do {
                let socket = try SocketAddress(ipAddress: ip, port: port)
                let channel = try await bootstrap(endpoint, dualStack: ip == "::").bind(to: socket).get()
                bound.append(channel)
                if port == 0, let chosen = channel.localAddress?.port { port = chosen }
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                for channel in bound { try? await channel.close() }
                throw OperationsServerError(.addressInUse, "cannot listen on \(target) (--metrics-address \(address)): the address is already in use; is another reclaw or another program serving there?")
            } catch let error as IOError where [EADDRNOTAVAIL, EAFNOSUPPORT, EPROTONOSUPPORT].contains(error.errnoCode) {
                failures.append("\(target): \(error)")  // an address family this host lacks: serve the others
            } catch {
                for channel in bound { try? await channel.close() }
                throw OperationsServerError(.cannotListen, "cannot listen on \(target) (--metrics-address \(address)): \(error)")
            }
        }
        guard !bound.isEmpty else {
            throw OperationsServerError(.cannotListen, "cannot listen on --metrics-address \(address): \(failures.joined(separator: "; "))")
        }
        if !failures.isEmpty {
            endpoint.logger.warning("some addresses of the operations endpoint cannot be served", metadata: ["http.unavailable": "\(failures.joined(separator: "; "))"])
        }
        return bound
    }

    static func bootstrap(_ endpoint: Endpoint, dualStack: Bool) -> ServerBootstrap {
        let limits = endpoint.limits
        var bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        if dualStack {
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 0)
        }
        return bootstrap
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(limits.socketSendBufferBytes))
            .childChannelOption(.writeBufferWaterMark, value: .init(low: limits.maxUnsentBytes / 2, high: limits.maxUnsentBytes))
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: min(2048, limits.maxReadBytes),
                                                                                          maximum: limits.maxReadBytes))
            .childChannelInitializer { channel in endpoint.accept(channel) }
    }

    static func text(_ address: SocketAddress) -> String {
        let ip = address.ipAddress ?? "?"
        return ip.contains(":") ? "[\(ip)]:\(address.port ?? 0)" : "\(ip):\(address.port ?? 0)"
    }
}
