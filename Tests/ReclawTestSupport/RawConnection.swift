import Foundation

/// A TCP connection driven byte by byte, as an attacker drives one: no HTTP library in between.
/// Blocking, with timeouts; async tests call it through `Command.offThread`.
public final class RawConnection: @unchecked Sendable {
    public let fd: Int32

    /// Connects to `host` (an IPv4 or IPv6 literal) and `port`.
    public init(_ port: UInt16, host: String = "127.0.0.1") throws {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawError("socket: \(String(cString: strerror(errno)))") }
        var rc: Int32
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &a.sin6_addr)
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &a.sin_addr)
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw RawError("connect \(host):\(port): \(message)")
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends everything; false once the server has closed or reset the connection.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until the server closes the connection, resets it, or `timeout` passes.
    public func readUntilClosed(timeout: TimeInterval) -> (text: String, closed: Bool) {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return (String(decoding: data, as: UTF8.self), false) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(left * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return (String(decoding: data, as: UTF8.self), true) }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    /// Reads one response whose body length is given by Content-Length (`bodyless` for HEAD).
    public func readResponse(timeout: TimeInterval, bodyless: Bool = false) -> RawResponse? {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while deadline.timeIntervalSinceNow > 0 {
            if let response = RawResponse(data, bodyless: bodyless) { return response }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000) + 1) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return RawResponse(data, bodyless: true) }
            data.append(contentsOf: buffer[0..<n])
        }
        return RawResponse(data, bodyless: true)
    }

    /// Whether the server closed the connection (EOF or reset) within `timeout`, without reading
    /// anything it sent first.
    public func closedByPeer(within timeout: TimeInterval) -> Bool {
        readUntilClosed(timeout: timeout).closed
    }
}

/// A response read off a raw connection.
public struct RawResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    public init?(_ data: [UInt8], bodyless: Bool = false) {
        let text = String(decoding: data, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<end.lowerBound].split(separator: "\r\n")
        guard let first = lines.first, first.hasPrefix("HTTP/1."), let code = Int(first.split(separator: " ")[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = String(text[end.upperBound...])
        if let length = headers["content-length"].flatMap(Int.init), !bodyless, body.utf8.count < length { return nil }
        status = code
        self.headers = headers
        self.body = body
    }
}

public struct RawError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
