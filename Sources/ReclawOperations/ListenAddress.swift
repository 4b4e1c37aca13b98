import Foundation

/// Where the operations endpoint listens, as `--metrics-address` writes it: `HOST:PORT`,
/// `localhost:PORT`, `[::1]:PORT`, or `:PORT` for every interface (IPv6 and IPv4). A host name is
/// resolved, and every address it has is served.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// nil: every interface.
    public var host: String?
    public var port: Int

    public init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses the text of `--metrics-address`; the error says which forms are accepted.
    public init(parsing text: String) throws {
        func fail(_ why: String) -> OperationsServerError {
            OperationsServerError(.invalidAddress, "--metrics-address \(text): \(why); write HOST:PORT, localhost:PORT, [IPV6]:PORT or :PORT")
        }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("the IPv6 address has no closing ]") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("no port after the IPv6 address") }
            portPart = rest.dropFirst()
            guard hostPart.contains(":") else { throw fail("\(hostPart) in brackets is not an IPv6 address") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("no port") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { throw fail("put an IPv6 address in brackets, as in [::1]:9464") }
            if hostPart.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) { throw fail("\(hostPart) is not a host name") }
        }
        guard let port = Int(portPart), (0...65535).contains(port) else { throw fail("the port must be a number from 0 to 65535") }
        self.host = hostPart.isEmpty ? nil : String(hostPart)
        self.port = port
    }

    public var description: String {
        guard let host else { return ":\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The IP addresses to bind, as text: the host's addresses, or `::` then `0.0.0.0` for every
    /// interface (the first that binds serves both families where the system allows).
    func candidateIPs() throws -> [String] {
        guard let host else { return ["::", "0.0.0.0"] }
        if Self.isIPLiteral(host) { return [host] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, let first = list else {
            throw OperationsServerError(.unresolvable, "--metrics-address \(self): cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var ips: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(n.pointee.ai_addr, n.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let ip = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !ips.contains(ip) { ips.append(ip) }
            }
            node = n.pointee.ai_next
        }
        guard !ips.isEmpty else { throw OperationsServerError(.unresolvable, "--metrics-address \(self): \(host) has no address") }
        return ips
    }

    static func isIPLiteral(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}

/// Why the operations endpoint cannot start: an address it cannot parse, resolve or bind, or a
/// hook secret it cannot use.
public struct OperationsServerError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case invalidAddress, unresolvable, addressInUse, cannotListen, invalidSecret }
    public var code: Code
    public var description: String
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
