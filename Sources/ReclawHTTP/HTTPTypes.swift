import ReclawTime

/// One HTTP request as reclaw sends it: everything curl needs, nothing more.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Longest wait for the TCP/TLS connection.
    public var connectTimeout: Duration
    /// Longest wait for the whole exchange.
    public var timeout: Duration
    /// The request is not sent once this instant (on `clock`) has passed, checked on curl's thread
    /// as the transfer is handed to libcurl, and the exchange ends there: a call allowed only under
    /// a lease never starts, nor runs on, after the lease's renew deadline.
    public var notAfter: Duration?
    /// The clock `notAfter` is read on: the caller's (curl's thread has no task to ask).
    public var clock: any TimeSource

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
        body: [UInt8] = [], connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(60),
        notAfter: Duration? = nil, clock: any TimeSource = Clocks.current
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.notAfter = notAfter
        self.clock = clock
    }
}

/// A complete HTTP response: status, headers in order, and the body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// New connections curl opened for this request: 0 when an existing one was reused.
    public var newConnections: Int

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], newConnections: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A transfer that failed below HTTP, keeping curl's code and message.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// curl's CURLcode.
    public var code: Int
    /// curl's message, with the detail of its error buffer.
    public var message: String
    /// Host and port of the request (never its path or query, which may hold secrets).
    public var host: String

    public init(code: Int, message: String, host: String) {
        self.code = code
        self.message = message
        self.host = host
    }

    /// The transfer ran out of time.
    public var isTimeout: Bool { code == 28 }

    /// The connection could not be made, or broke before a full response arrived.
    public var isConnectionError: Bool {
        [5, 6, 7, 18, 35, 52, 55, 56].contains(code)
    }

    /// The request was cancelled by its task.
    public var isCancelled: Bool { code == -1 }

    /// The request was never sent: its `notAfter` had passed when it reached libcurl.
    public var isPastDeadline: Bool { code == -2 }

    public var description: String { "HTTP request to \(host) failed: \(message) (curl error \(code))" }
}
