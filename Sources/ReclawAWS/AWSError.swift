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

    public let kind: Kind
    /// AWS's error code (`AuthFailure`, `Throttling`, ...), or a reclaw code for local failures.
    public let code: String
    public let message: String
    public let httpStatus: Int?
    /// The service's short name (ec2, iam, ssm, ...).
    public let service: String
    public let operation: String
    public let region: String
    public let requestID: String?
    /// How many times the call was sent.
    public let attempts: Int
    /// curl's code, for transport errors.
    public let transportCode: Int?
    private let meaning: Meaning

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
        self.meaning = Meaning(kind: kind, code: code, message: message)
    }

    static func transport(_ e: HTTPError, service: String, operation: String, region: String, attempts: Int = 1) -> AWSError {
        AWSError(kind: .transport, code: e.isTimeout ? "RequestTimeout" : "ConnectionError", message: e.message,
                 service: service, operation: operation, region: region, attempts: attempts, transportCode: e.code)
    }

    static func credentials(_ message: String, code: String = "CredentialsError") -> AWSError {
        AWSError(kind: .credentials, code: code, message: message, service: "credentials", operation: "resolve")
    }

    /// The task was cancelled before the call, or the wait, finished. Nothing more was sent.
    public static func cancelled(service: String, operation: String, region: String = "", waitingFor what: String? = nil) -> AWSError {
        AWSError(kind: .transport, code: "Cancelled", message: what.map { "cancelled while waiting for \($0)" } ?? "the call was cancelled",
                 service: service, operation: operation, region: region)
    }

    /// This error once the client-side retry budget for `key` is spent.
    func quotaExhausted(_ key: String) -> AWSError {
        AWSError(kind: .retryQuotaExhausted, code: code, message: "retry quota exhausted for \(key); last error: \(code): \(message)",
                 httpStatus: httpStatus, service: service, operation: operation, region: region, requestID: requestID,
                 attempts: attempts, transportCode: transportCode)
    }

    /// The same error with `note` added to its message.
    public func noting(_ note: String) -> AWSError {
        AWSError(kind: kind, code: code, message: message.isEmpty ? note : message + " " + note, httpStatus: httpStatus,
                 service: service, operation: operation, region: region, requestID: requestID, attempts: attempts, transportCode: transportCode)
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

    /// AWS refused the request as throttled (a retry-quota error keeps the last failure's code).
    public var isThrottling: Bool { meaning == .throttling }

    /// The named resource does not exist (`*.NotFound`, `NoSuchEntity`, `ParameterNotFound`, ...).
    public var isNotFound: Bool { meaning == .notFound }

    /// The task was cancelled (see `cancelled(service:operation:region:waitingFor:)`).
    public var isCancelled: Bool { meaning == .cancelled }

    /// EC2 does not know an instance profile IAM has just made (it has not propagated yet).
    public var isInstanceProfileNotPropagated: Bool { meaning == .instanceProfileNotPropagated }
}
