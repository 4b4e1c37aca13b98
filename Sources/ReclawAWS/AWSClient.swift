import Foundation
import Logging
import ReclawHTTP
import ReclawJSON
import Synchronization
import ReclawTime

/// Sends signed requests to AWS over libcurl: endpoint resolution, SigV4, retries with backoff,
/// a retry quota and an adaptive rate limit per service and region, error decoding, request ids,
/// and a record of every attempt for the audit trail.
public struct AWSClient: Sendable {
    public let credentials: any CredentialProvider
    public let environment: AWSEnvironment
    /// Told when a call waits out a transient (a new id not yet visible, throttling), so the wait
    /// shows in the status of the deployment this copy acts for.
    public let waits: (any WaitObserver)?
    let shared: Shared

    /// State shared by every copy of a client (and by clients derived with other credentials).
    final class Shared: Sendable {
        let http: HTTPClient
        let retry: RetryPolicy
        let logger: Logger
        let observer: (any AWSCallObserver)?
        let timeout: Duration
        /// Appended to every User-Agent (`replica/ID`), so each call can be told apart by replica.
        let userAgentSuffix: String
        let quotas = Mutex<[String: RetryQuota]>([:])
        let limiters = Mutex<[String: RateLimiter]>([:])
        let fresh = FreshIDs()

        init(http: HTTPClient, retry: RetryPolicy, logger: Logger, observer: (any AWSCallObserver)?, timeout: Duration, userAgentSuffix: String) {
            self.userAgentSuffix = userAgentSuffix
            self.http = http
            self.retry = retry
            self.logger = logger
            self.observer = observer
            self.timeout = timeout
        }

        func quota(_ key: String) -> RetryQuota { quotas.withLock { $0[key] ?? { let q = RetryQuota(); $0[key] = q; return q }(&$0) } }
        func limiter(_ key: String) -> RateLimiter { limiters.withLock { $0[key] ?? { let l = RateLimiter(); $0[key] = l; return l }(&$0) } }
    }

    public init(credentials: any CredentialProvider, environment: AWSEnvironment = AWSEnvironment(), http: HTTPClient = .shared,
                retry: RetryPolicy? = nil, logger: Logger = Logger(label: "reclaw.aws"), observer: (any AWSCallObserver)? = nil, replica: String? = nil,
                timeout: Duration = .seconds(60)) {
        self.credentials = credentials
        self.environment = environment
        waits = nil
        shared = Shared(http: http, retry: retry ?? .standard(environment: environment), logger: logger, observer: observer, timeout: timeout,
                        userAgentSuffix: replica.map { " replica/\($0)" } ?? "")
    }

    private init(credentials: any CredentialProvider, environment: AWSEnvironment, waits: (any WaitObserver)?, shared: Shared) {
        self.credentials = credentials
        self.environment = environment
        self.waits = waits
        self.shared = shared
    }

    /// The same client (limits, quotas, observer) acting with other credentials.
    public func with(credentials: any CredentialProvider) -> AWSClient {
        AWSClient(credentials: credentials, environment: environment, waits: waits, shared: shared)
    }

    /// The same client, telling `waits` about the transients its calls wait out.
    public func reporting(to waits: (any WaitObserver)?) -> AWSClient {
        AWSClient(credentials: credentials, environment: environment, waits: waits, shared: shared)
    }

    public var logger: Logger { shared.logger }

    /// How calls are retried, and how long transients are waited out.
    public var retryPolicy: RetryPolicy { shared.retry }

    // MARK: the call loop

    struct Response {
        var status: Int
        var body: [UInt8]
        var requestID: String?
    }

    /// Sends a call, retrying it as the policy says. `named` are the values of the request's
    /// parameters outside filters: the ids it names, for EC2's eventual consistency.
    func send(_ service: AWSService, _ operation: String, region: String, body: [UInt8], headers: [(String, String)],
                      parameters: JSONValue, named: [String], context: AWSCallContext,
                      decodeError: (Int, [UInt8]) -> (code: String, message: String, requestID: String?)) async throws(AWSError) -> Response {
        guard AWSOperations.contains(service, operation) else {
            // A programming error, caught by the tests: the IAM policy would not allow it either.
            throw AWSError(kind: .unlisted, code: "UnlistedOperation", message: "\(service.rawValue) \(operation) is not in AWSOperations",
                           service: service.rawValue, operation: operation, region: region)
        }
        let endpoint = AWSEndpoint.resolve(service, region: region, environment: environment)
        let key = "\(service.rawValue)/\(endpoint.signingRegion)"
        let quota = shared.quota(key)
        let limiter = shared.limiter(key)
        let mutating = Sanitizer.isMutating(operation)
        let deadlines = shared.retry.deadlines
        let firstAttempt = Clocks.now()
        var spent = 0
        var attempt = 0
        // Failures counted against maxAttempts (transients waited out are not), and the retries of each transient.
        var counted = 0
        var consistencyRetries = 0
        var throttleRetries = 0
        var waiting = WaitProgress(observer: waits)
        // A wait under way ends with the call, however it ends.
        do throws(AWSError) {
            while true {
                attempt += 1
                do { try await limiter.acquire() } catch {
                    throw AWSError.cancelled(service: service.rawValue, operation: operation, region: region)
                }
                if mutating, let observer = shared.observer {
                    try await observer.admit(AWSCallIntent(service: service, operation: operation, region: region, context: context))
                }
                let creds = try await credentials.credentials()
                var request = SignableRequest(method: "POST", headers: [("Host", Self.hostHeader(endpoint.url))] + headers, body: body)
                if !creds.accessKeyId.isEmpty {  // anonymous calls (AssumeRoleWithWebIdentity) go unsigned
                    SigV4Signer(credentials: creds, region: endpoint.signingRegion, service: service.signingName).sign(&request, date: Clocks.date())
                }
                // Fenced at the wire: credentials may have taken long (AssumeRole waiting out IAM),
                // so the lease is checked again now, and the request may not start after it ends.
                var notAfter: Duration?
                if mutating, let observer = shared.observer, let left = try observer.fence(AWSCallIntent(service: service, operation: operation, region: region, context: context)) {
                    notAfter = Clocks.now() + left
                }
                let started = Clocks.now()
                let time = Clocks.date()
                var failure: AWSError
                var response: Response?
                do {
                    let r = try await shared.http.send(HTTPRequest(
                        method: "POST", url: endpoint.url + "/",
                        headers: request.headers.filter { $0.name != "Host" } + [("User-Agent", context.userAgent + shared.userAgentSuffix)],
                        body: body, connectTimeout: .seconds(10), timeout: shared.timeout, notAfter: notAfter))
                    let headerID = r.header("x-amzn-requestid") ?? r.header("x-amz-request-id")
                    if (200..<300).contains(r.status) {
                        let id = headerID ?? Self.bodyRequestID(r.body)
                        await observe(service, operation, endpoint.signingRegion, id, r.status, nil, mutating, attempt, started, time, context, creds, parameters, mutating ? r.bodyText : nil)
                        log(.debug, service, operation, region, id, r.status, nil, attempt, started, context)
                        quota.release(spent)
                        limiter.succeeded()
                        if service == .ec2 { noteIDs(operation, response: r.body, named: named, region: region) }
                        await waiting.end(.done)
                        return Response(status: r.status, body: r.body, requestID: id)
                    }
                    let decoded = decodeError(r.status, r.body)
                    failure = AWSError(kind: .service, code: decoded.code, message: decoded.message, httpStatus: r.status,
                                       service: service.rawValue, operation: operation, region: region,
                                       requestID: headerID ?? decoded.requestID, attempts: attempt)
                    response = Response(status: r.status, body: r.body, requestID: failure.requestID)
                } catch {
                    if error.isCancelled {
                        throw AWSError.cancelled(service: service.rawValue, operation: operation, region: region)
                    }
                    if error.isPastDeadline {
                        throw AWSError(kind: .refused, code: "LeaseNotHeld", message: "not sent: the lease that allowed it ended before it could start",
                                       service: service.rawValue, operation: operation, region: region)
                    }
                    failure = AWSError.transport(error, service: service.rawValue, operation: operation, region: region, attempts: attempt)
                }
                await observe(service, operation, endpoint.signingRegion, failure.requestID, response?.status, failure, mutating, attempt, started, time, context, creds, parameters, nil)
                log(.debug, service, operation, region, failure.requestID, response?.status, failure, attempt, started, context)
                if failure.isThrottling { limiter.throttled() }
                let now = Clocks.now()
                if let window = deadlines?.eventualConsistency,
                   let fresh = shared.fresh.retryUntil(failure, named: named, region: region, now: now, window: window) {
                    // A new id not visible yet: try again (a last time once its window has passed).
                    consistencyRetries += 1
                    await waiting.note("\(fresh.id) to become visible in EC2", deadline: window, brief: true)
                    let delay = max(.milliseconds(1), min(shared.retry.delay(after: consistencyRetries), fresh.until - now))
                    try await pause(delay, service, operation, region, failure, retry: consistencyRetries, context: context)
                    continue
                }
                if failure.isThrottling, let limit = deadlines?.throttling, now - firstAttempt < limit {
                    // Throttled: the rate limiter has slowed down; try again until the deadline.
                    throttleRetries += 1
                    await waiting.note("\(service.rawValue) \(operation) to be accepted (throttled: \(failure.code))", deadline: limit, brief: true)
                    try await pause(shared.retry.delay(after: throttleRetries), service, operation, region, failure, retry: throttleRetries, context: context)
                    continue
                }
                counted += 1
                guard RetryPolicy.isRetryable(failure), counted < shared.retry.maxAttempts else {
                    await waiting.end(waiting.current == nil ? .failed(code: failure.code) : .gaveUp(code: failure.code))
                    throw failure
                }
                guard let cost = quota.acquire(for: failure) else {
                    await waiting.end(.gaveUp(code: failure.code))
                    throw failure.quotaExhausted(key)
                }
                spent += cost
                let delay = shared.retry.delay(after: attempt)
                shared.logger.debug("retrying AWS call", metadata: [
                    "aws.service": "\(service.rawValue)", "aws.operation": "\(operation)", "aws.error_code": "\(failure.code)",
                    "attempt": "\(attempt)", "delay_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                ])
                do { try await Clocks.sleep(for: delay) } catch {
                    throw AWSError.cancelled(service: service.rawValue, operation: operation, region: region)
                }
            }
        } catch {
            await waiting.end(.failed(code: error.code))
            throw error
        }
    }

    /// Remembers the ids an EC2 create returned (not yet visible everywhere) and forgets those a
    /// delete removed (a NotFound about them now means absent).
    private func noteIDs(_ operation: String, response: [UInt8], named: [String], region: String) {
        guard let window = shared.retry.deadlines?.eventualConsistency else { return }
        if FreshIDs.creates(operation) {
            shared.fresh.remember(response, named: named, region: region, now: Clocks.now(), window: window)
        } else if FreshIDs.deletes(operation) {
            shared.fresh.forget(named)
        }
    }

    /// Sleeps before retrying a transient failure.
    private func pause(_ delay: Duration, _ service: AWSService, _ operation: String, _ region: String, _ failure: AWSError, retry: Int,
                       context: AWSCallContext) async throws(AWSError) {
        shared.logger.debug("waiting out a transient AWS error", metadata: [
            "aws.service": "\(service.rawValue)", "aws.operation": "\(operation)", "aws.error_code": "\(failure.code)",
            "aws.request_id": "\(failure.requestID ?? "")", "retry": "\(retry)", "delay": "\(delay.spokenDuration)",
            "deployment": "\(context.deployment ?? "")",
        ])
        do { try await Clocks.sleep(for: delay) } catch {
            throw AWSError.cancelled(service: service.rawValue, operation: operation, region: region)
        }
    }

    private func observe(_ service: AWSService, _ operation: String, _ region: String, _ requestID: String?, _ status: Int?, _ error: AWSError?,
                         _ mutating: Bool, _ attempt: Int, _ started: Duration, _ time: Date, _ context: AWSCallContext,
                         _ creds: AWSCredentials, _ parameters: JSONValue, _ responseText: String?) async {
        guard let observer = shared.observer else { return }
        await observer.record(AWSCallRecord(
            service: service, operation: operation, region: region, requestID: requestID, httpStatus: status,
            errorCode: error?.code, errorMessage: error?.message, isMutating: mutating, attempt: attempt,
            duration: Clocks.now() - started, time: time, context: context, userAgent: context.userAgent + shared.userAgentSuffix,
            accessKeyId: creds.accessKeyId, requestParameters: parameters, responseText: responseText))
    }

    private func log(_ level: Logger.Level, _ service: AWSService, _ operation: String, _ region: String, _ requestID: String?, _ status: Int?,
                     _ error: AWSError?, _ attempt: Int, _ started: Duration, _ context: AWSCallContext) {
        var metadata: Logger.Metadata = [
            "aws.service": "\(service.rawValue)", "aws.operation": "\(operation)", "aws.region": "\(region)",
            "attempt": "\(attempt)", "duration_ms": "\((Clocks.now() - started).components.attoseconds / 1_000_000_000_000_000 + (Clocks.now() - started).components.seconds * 1000)",
        ]
        if let requestID { metadata["aws.request_id"] = "\(requestID)" }
        if let status { metadata["http.status"] = "\(status)" }
        if let error { metadata["aws.error_code"] = "\(error.code)" }
        if let d = context.deployment { metadata["deployment"] = "\(d)" }
        if let p = context.planID { metadata["plan.id"] = "\(p)" }
        shared.logger.log(level: level, "aws call", metadata: metadata)
    }
}
