import Crypto
import FlyingFox
import FlyingSocks
import Foundation
import Logging
import ServiceLifecycle

/// The daemon's HTTP endpoint (FlyingFox, the lightest server that builds in this budget):
/// `/healthz`, Prometheus `/metrics`, and `POST /hooks/git`, a push notification that triggers an
/// immediate fetch when signed the way GitHub signs (`X-Hub-Signature-256: sha256=HMAC`).
public final class OperationsServer: Service, Sendable {
    let server: HTTPServer
    let metrics: Metrics
    let secret: String?
    let logger: Logger
    let health: @Sendable () -> HealthReport
    let onPush: @Sendable () -> Void

    /// The port served (port 0 in the address is resolved to a free one at once, so a restart keeps it).
    public let port: UInt16

    /// `address` is `host:port`; `secret` is the shared webhook secret (nil or empty: every hook call
    /// is refused, since anyone can sign with an empty key).
    public init(address: String, metrics: Metrics, secret: String?, logger: Logger, health: @escaping @Sendable () -> HealthReport,
                onPush: @escaping @Sendable () -> Void) throws {
        let parts = address.split(separator: ":")
        guard parts.count == 2, var port = UInt16(parts[1]) else { throw SourceError("--metrics-address takes HOST:PORT, not \(address)") }
        if port == 0 { port = try Self.freePort(host: String(parts[0])) }
        self.port = port
        server = HTTPServer(address: try .inet(ip4: String(parts[0]), port: port), logger: .disabled)
        self.metrics = metrics
        self.secret = secret?.isEmpty == false ? secret : nil
        self.logger = logger
        self.health = health
        self.onPush = onPush
    }

    /// Serves until a graceful shutdown. If the server stops on its own (its socket pool can give
    /// up under signal storms), it is started again on the same port: the endpoint must not vanish.
    public func run() async throws {
        await installRoutes()
        while true {
            do {
                try await cancelWhenGracefulShutdown {
                    try await self.server.run()
                }
                return
            } catch is CancellationError {
                return  // a graceful shutdown: a clean end
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("the operations endpoint stopped; starting it again", metadata: ["error": "\(error)", "port": "\(port)"])
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Waits until the server listens; returns its port.
    public func waitUntilListening(timeout: TimeInterval = 30) async throws -> UInt16 {
        try await server.waitUntilListening(timeout: timeout)
        return port
    }

    static func freePort(host: String) throws -> UInt16 {
        let socket = try FlyingSocks.Socket(domain: AF_INET)
        try socket.bind(to: try .inet(ip4: host, port: 0))
        guard case .ip4(_, let port) = try socket.sockname() else { throw SourceError("cannot find a free port on \(host)") }
        try socket.close()
        return port
    }

    private func installRoutes() async {
        let (metrics, secret, logger, health, onPush) = (self.metrics, self.secret, self.logger, self.health, self.onPush)
        await server.appendRoute("GET /healthz") { _ in
            let report = health()
            return HTTPResponse(statusCode: report.healthy ? .ok : .serviceUnavailable, body: Data((report.message + "\n").utf8))
        }
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: Data(metrics.render().utf8))
        }
        await server.appendRoute("POST /hooks/git") { request in
            let body = try await request.bodyData
            guard let secret else {
                logger.warning("a push notification was refused: no hook secret is configured")
                return HTTPResponse(statusCode: .unauthorized, body: Data("no hook secret configured\n".utf8))
            }
            guard Self.verify(signature: request.headers[HTTPHeader("X-Hub-Signature-256")], body: body, secret: secret) else {
                logger.warning("a push notification was refused: missing or wrong signature")
                return HTTPResponse(statusCode: .unauthorized, body: Data("missing or wrong X-Hub-Signature-256\n".utf8))
            }
            logger.info("push notification received; fetching now")
            onPush()
            return HTTPResponse(statusCode: .accepted, body: Data("fetching\n".utf8))
        }
    }

    /// Checks `sha256=HEX` against HMAC-SHA256 of the body, in constant time.
    public static func verify(signature: String?, body: Data, secret: String) -> Bool {
        guard let signature, signature.hasPrefix("sha256="), let given = Data(hex: String(signature.dropFirst(7))) else { return false }
        let expected = Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// What /healthz answers: healthy or not, and why.
public struct HealthReport: Sendable {
    public var healthy: Bool
    public var message: String

    public init(healthy: Bool, message: String) {
        self.healthy = healthy
        self.message = message
    }
}

extension Data {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            bytes.append(b)
            i = j
        }
        self.init(bytes)
    }
}
