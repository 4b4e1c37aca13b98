import Crypto
import Foundation

/// A request as SigV4 sees it: method, path, decoded query pairs, headers in order, body.
public struct SignableRequest: Sendable {
    public var method: String
    /// The path as sent, not yet encoded ("/" for every query and JSON API).
    public var path: String
    /// Decoded query parameters; repeated keys are allowed.
    public var query: [(String, String)]
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String = "/", query: [(String, String)] = [], headers: [(name: String, value: String)], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

/// AWS Signature Version 4 (HMAC-SHA256), checked against AWS's own test suite.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Adds X-Amz-Date, the session token (signed) and Authorization to `request`.
    /// Headers present when it is called are signed, except `user-agent` and `expect`.
    public func sign(_ request: inout SignableRequest, date: Date) {
        let stamp = Self.timestamp(date)
        request.headers.removeAll { ["authorization", "x-amz-date"].contains($0.name.lowercased()) }
        request.headers.append(("X-Amz-Date", stamp))
        if let token = credentials.sessionToken, request.header("x-amz-security-token") == nil {
            request.headers.append(("X-Amz-Security-Token", token))
        }
        request.headers.append(("Authorization", authorization(for: request, timestamp: stamp)))
    }

    /// The Authorization header value for a request that already carries its X-Amz-Date.
    public func authorization(for request: SignableRequest, timestamp: String) -> String {
        let (canonical, signedHeaders) = canonicalRequest(request)
        let toSign = stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey(date: String(timestamp.prefix(8)))))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(date: String(timestamp.prefix(8)))), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The canonical request and its signed-headers list.
    public func canonicalRequest(_ request: SignableRequest) -> (String, String) {
        var grouped: [String: [String]] = [:]
        for (name, value) in request.headers {
            let lower = name.lowercased()
            if Self.unsignedHeaders.contains(lower) { continue }
            grouped[lower, default: []].append(Self.trim(value))
        }
        let names = grouped.keys.sorted()
        let headerLines = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))" }.joined(separator: "\n")
        let signed = names.joined(separator: ";")
        let encoded: [(key: String, value: String)] = request.query.map { (URIEncoding.encode($0.0), URIEncoding.encode($0.1)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.key == b.key ? a.value < b.value : a.key < b.key }
        let query = sorted.map { (pair: (key: String, value: String)) -> String in pair.key + "=" + pair.value }.joined(separator: "&")
        let payload = request.header("x-amz-content-sha256") ?? Self.hex(SHA256.hash(data: request.body))
        let canonical = [request.method.uppercased(), Self.canonicalPath(request.path), query, headerLines + "\n", signed, payload].joined(separator: "\n")
        return (canonical, signed)
    }

    public func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        ["AWS4-HMAC-SHA256", timestamp, scope(date: String(timestamp.prefix(8))), Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))]
            .joined(separator: "\n")
    }

    func scope(date: String) -> String { "\(date)/\(region)/\(service)/aws4_request" }

    func signingKey(date: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    static let unsignedHeaders: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id", "connection"]

    /// Removes dot segments and empty segments, then encodes each segment once.
    static func canonicalPath(_ path: String) -> String {
        var segments: [String] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(String(segment))
            }
        }
        let trailing = path.hasSuffix("/") && !segments.isEmpty
        return "/" + segments.map { URIEncoding.encode($0) }.joined(separator: "/") + (trailing ? "/" : "")
    }

    /// Trims a header value and collapses runs of whitespace (including folded lines) to one space.
    static func trim(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    static func timestamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: date)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Lowercase hex SHA-256 of bytes.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }
}
