import ReclawHTTP

/// Every failure of an AWS call, decoded into one shape: AWS's error code and message, HTTP status,
/// service, operation and request id, or the transport or credential problem that came first.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public enum Kind: Sendable, Equatable {
        /// AWS answered with an error.
        case service
        /// The request never got a complete answer (connection, timeout).
        case transport
        /// No usable credentials.
        case credentials
        /// AWS answered something reclaw could not read.
        case decoding
        /// The client-side retry budget is spent; the last error is in `message`.
        case retryQuotaExhausted
        /// reclaw asked for an operation missing from `AWSOperations` (a bug; nothing was sent).
        case unlisted
        /// reclaw refused to send a mutating call: its audit record could not be written, or the
        /// lease that allows it is gone. Nothing was sent.
        case refused
    }

    public var kind: Kind
    /// AWS's error code (`AuthFailure`, `Throttling`, ...), or a reclaw code for local failures.
    public var code: String
    public var message: String
    public var httpStatus: Int?
    /// The service's short name (ec2, iam, ssm, ...).
    public var service: String
    public var operation: String
    public var region: String
    public var requestID: String?
    /// How many times the call was sent.
    public var attempts: Int
    /// curl's code, for transport errors.
    public var transportCode: Int?

    public init(kind: Kind, code: String, message: String, httpStatus: Int? = nil, service: String, operation: String,
                region: String = "", requestID: String? = nil, attempts: Int = 1, transportCode: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.service = service
        self.operation = operation
        self.region = region
        self.requestID = requestID
        self.attempts = attempts
        self.transportCode = transportCode
    }

    static func transport(_ e: HTTPError, service: String, operation: String, region: String) -> AWSError {
        AWSError(kind: .transport, code: e.isTimeout ? "RequestTimeout" : "ConnectionError", message: e.message,
                 service: service, operation: operation, region: region, transportCode: e.code)
    }

    static func credentials(_ message: String, code: String = "CredentialsError") -> AWSError {
        AWSError(kind: .credentials, code: code, message: message, service: "credentials", operation: "resolve")
    }

    public var description: String {
        var s = "\(service) \(operation) failed: \(code)"
        if !message.isEmpty { s += ": \(message)" }
        var details: [String] = []
        if let httpStatus { details.append("HTTP \(httpStatus)") }
        if let requestID { details.append("request id \(requestID)") }
        if attempts > 1 { details.append("\(attempts) attempts") }
        if !region.isEmpty { details.append(region) }
        if !details.isEmpty { s += " (" + details.joined(separator: ", ") + ")" }
        return s
    }

    /// AWS refused the request as throttled.
    public var isThrottling: Bool { RetryPolicy.throttlingCodes.contains(code) }

    /// The named resource does not exist (`*.NotFound`, `NoSuchEntity`, `ParameterNotFound`, ...).
    public var isNotFound: Bool {
        code.hasSuffix(".NotFound") || code.hasSuffix("NotFound") || code == "NoSuchEntity" || code == "ParameterNotFound"
            || code == "ResourceNotFoundException" || code == "InvalidParameterValue" && message.lowercased().contains("does not exist")
    }
}
