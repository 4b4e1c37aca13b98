import Foundation
import ReclawHTTP

/// A running local AWS emulator (moto wrapped by scripts/emulator), started for this test process
/// and stopped when it exits.
public final class Emulator: Sendable {
    public let url: String
    private let stateDir: String
    private let http = HTTPClient()

    /// The emulator the whole test process shares; tests keep apart by unique names and regions.
    public static let shared: Emulator = {
        if let url = ProcessInfo.processInfo.environment["RECLAW_TEST_AWS_ENDPOINT"], !url.isEmpty {
            return Emulator(url: url, stateDir: "")
        }
        return try! Emulator.start()
    }()

    private init(url: String, stateDir: String) {
        self.url = url
        self.stateDir = stateDir
    }

    /// Starts a new emulator of its own (for tests that change global emulator settings).
    public static func start() throws -> Emulator {
        try launch([])
    }

    /// Starts a new emulator of its own, in realistic mode when `realistic` is true: AWS's delays and
    /// refusals, AWS's durations times `scale` (the emulator's default 0.1 when nil), with
    /// `behaviours` as POST /_emulator/realism takes them, e.g. `["rateLimits": ["enabled": false],
    /// "endpointPending": ["seconds": 2]]` (names: `RealisticBehaviour`).
    public static func start(realistic: Bool, scale: Double? = nil, behaviours: [String: [String: Any]] = [:]) throws -> Emulator {
        var arguments: [String] = realistic ? ["--realistic"] : []
        if let scale { arguments += ["--scale", String(scale)] }
        if !behaviours.isEmpty {
            let json = try JSONSerialization.data(withJSONObject: ["behaviours": behaviours])
            arguments += ["--realism", String(decoding: json, as: UTF8.self)]
        }
        return try launch(arguments)
    }

    private static func launch(_ extra: [String]) throws -> Emulator {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("reclaw-emulator-\(UUID().uuidString.prefix(8))").path
        let out = try Command.check([
            "python3", RepoPaths.path("scripts/emulator/emulator.py"), "start", "--state-dir", state,
            "--watch-pid", String(ProcessInfo.processInfo.processIdentifier),
        ] + extra)
        return Emulator(url: out.trimmingCharacters(in: .whitespacesAndNewlines), stateDir: state)
    }

    /// Stops an emulator this process started.
    public func stop() {
        guard !stateDir.isEmpty else { return }
        _ = try? Command.run(["python3", RepoPaths.path("scripts/emulator/emulator.py"), "stop", "--state-dir", stateDir])
    }

    /// Environment for the reclaw binary or the AWS CLI to use this emulator with test credentials.
    public var environment: [String: String] {
        [
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "AKIDTESTRECLAW000001",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        ]
    }

    // MARK: admin API

    /// Makes the next `count` calls of `operation` fail with `code` and `status`.
    @discardableResult
    public func injectError(service: String? = nil, region: String? = nil, userAgent: String? = nil, operation: String, code: String, status: Int = 400, count: Int? = 1) async throws -> Int {
        var body: [String: Any] = ["operation": operation, "error": ["code": code, "status": status]]
        body["count"] = count ?? NSNull()
        if let service { body["service"] = service }
        if let region { body["region"] = region }
        if let userAgent { body["userAgent"] = userAgent }
        return try await admin("faults", body)["id"] as? Int ?? 0
    }

    /// Drops the connection of the next `count` calls of `operation`.
    /// `afterCarryingOut`: the call is made, then its answer is lost (a client timeout after AWS acted).
    public func injectDrop(service: String? = nil, region: String? = nil, userAgent: String? = nil, operation: String, count: Int = 1,
                           afterCarryingOut: Bool = false) async throws {
        var body: [String: Any] = ["operation": operation, afterCarryingOut ? "loseAnswer" : "drop": true, "count": count]
        if let service { body["service"] = service }
        if let region { body["region"] = region }
        if let userAgent { body["userAgent"] = userAgent }
        _ = try await admin("faults", body)
    }

    /// Delays calls of `operation` ("*" for all) by `milliseconds`; nil count means until cleared.
    @discardableResult
    public func injectDelay(service: String? = nil, region: String? = nil, userAgent: String? = nil, operation: String = "*", milliseconds: Int, count: Int? = nil) async throws -> Int {
        var body: [String: Any] = ["operation": operation, "delayMs": milliseconds]
        body["count"] = count ?? NSNull()
        if let service { body["service"] = service }
        if let region { body["region"] = region }
        if let userAgent { body["userAgent"] = userAgent }
        return try await admin("faults", body)["id"] as? Int ?? 0
    }

    /// Removes one fault (others' faults stay: tests share the emulator).
    public func removeFault(_ id: Int) async throws {
        _ = try await admin("faults?id=\(id)", nil, method: "DELETE")
    }

    public func clearFaults() async throws {
        _ = try await admin("faults", nil, method: "DELETE")
    }

    /// Every request the emulator received for `operation`, including faulted ones.
    public func requests(service: String? = nil, operation: String? = nil, region: String? = nil, userAgent: String? = nil) async throws -> [[String: Any]] {
        var query: [String] = []
        if let userAgent { query.append("userAgent=\(userAgent.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? userAgent)") }
        if let service { query.append("service=\(service)") }
        if let region { query.append("region=\(region)") }
        if let operation { query.append("operation=\(operation)") }
        let result = try await admin("requests?" + query.joined(separator: "&"), nil, method: "GET")
        return result["requests"] as? [[String: Any]] ?? []
    }

    /// Sets how long recorded events take to reach LookupEvents.
    public func setCloudTrailDelay(seconds: Double) async throws {
        _ = try await admin("cloudtrail", ["deliveryDelaySeconds": seconds])
    }

    /// Turns SigV4 signature checking on or off.
    public func setSignatureChecking(_ enabled: Bool) async throws {
        _ = try await admin("auth", ["enabled": enabled])
    }

    /// Publishes a newer AMI behind the Ubuntu parameter of `region` and returns its id.
    public func rotateAMI(region: String, architecture: String = "arm64") async throws -> String {
        try await admin("ami", ["region": region, "architecture": architecture])["imageId"] as? String ?? ""
    }

    /// The AMI the Ubuntu parameter of `region` currently names.
    public func currentAMI(region: String, architecture: String = "arm64") async throws -> String {
        try await admin("ami?region=\(region)&architecture=\(architecture)", nil, method: "GET")["imageId"] as? String ?? ""
    }

    // MARK: realistic mode

    /// Switches realistic mode on or off while the emulator runs; `behaviours` as in
    /// `start(realistic:scale:behaviours:)`; `reset` first restores every default. Returns the settings now in force.
    @discardableResult
    public func setRealistic(_ enabled: Bool, scale: Double? = nil, behaviours: [String: [String: Any]] = [:], reset: Bool = false) async throws -> [String: Any] {
        var body: [String: Any] = ["enabled": enabled]
        if let scale { body["scale"] = scale }
        if !behaviours.isEmpty { body["behaviours"] = behaviours }
        if reset { body["reset"] = true }
        return try await admin("realism", body)
    }

    /// Switches one realistic behaviour on or off, or sets how long it lasts (0 ends the window at
    /// once for everything waiting on it). Realistic mode itself stays as it is.
    @discardableResult
    public func setBehaviour(_ behaviour: RealisticBehaviour, enabled: Bool? = nil, seconds: Double? = nil) async throws -> [String: Any] {
        var setting: [String: Any] = [:]
        if let enabled { setting["enabled"] = enabled }
        if let seconds { setting["seconds"] = seconds }
        return try await admin("realism", ["behaviours": [behaviour.rawValue: setting]])
    }

    /// Realistic mode's settings: `enabled`, `scale`, and per behaviour `enabled`, `active`, `seconds`, `awsSeconds`.
    public func realism() async throws -> [String: Any] {
        try await admin("realism", nil, method: "GET")
    }

    // MARK: EventBridge

    /// Whether CloudTrail's management writes go to EventBridge, and after how long (nil: unchanged).
    @discardableResult
    public func setEventDelivery(enabled: Bool? = nil, delaySeconds: Double? = nil) async throws -> [String: Any] {
        var body: [String: Any] = [:]
        if let enabled { body["enabled"] = enabled }
        if let delaySeconds { body["deliveryDelaySeconds"] = delaySeconds }
        return try await admin("events", body)
    }

    /// Delivers every event still waiting for its delay, now.
    public func flushEvents() async throws {
        _ = try await admin("events", ["flush": true])
    }

    /// Event delivery's state: `enabled`, `deliveryDelaySeconds`, `pending`, `delivered`, `failed`.
    public func eventDelivery() async throws -> [String: Any] {
        try await admin("events", nil, method: "GET")
    }

    // MARK: SSM Run Command

    /// Makes the next `count` SendCommand calls (for `instanceId` / `region` when given) end with
    /// `outcome` instead of Success; the response code defaults to 1 for Failed, -1 otherwise.
    public func failNextCommands(_ outcome: CommandOutcome = .failed, count: Int = 1, responseCode: Int? = nil,
                                 stdout: String = "", stderr: String = "", instanceId: String? = nil, region: String? = nil) async throws {
        var body: [String: Any] = ["status": outcome.rawValue, "count": count, "stdout": stdout, "stderr": stderr]
        if let responseCode { body["responseCode"] = responseCode }
        if let instanceId { body["instanceId"] = instanceId }
        if let region { body["region"] = region }
        _ = try await admin("commands", body)
    }

    /// Drops command outcomes queued by `failNextCommands` and not used yet.
    public func clearCommandOutcomes() async throws {
        _ = try await admin("commands", nil, method: "DELETE")
    }

    @discardableResult
    public func admin(_ route: String, _ body: [String: Any]?, method: String = "POST") async throws -> [String: Any] {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        let response = try await http.send(HTTPRequest(
            method: method, url: "\(url)/_emulator/\(route)",
            headers: [("Content-Type", "application/json")], body: Array(data)))
        guard response.status == 200 else {
            throw CommandFailure(arguments: [route], result: CommandResult(status: Int32(response.status), stdout: response.bodyText, stderr: ""))
        }
        return (try JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }
}

/// A behaviour of the emulator's realistic mode (scripts/emulator/realism.py has what each does and AWS's durations).
public enum RealisticBehaviour: String, CaseIterable, Sendable {
    case eventualConsistency, endpointPending, endpointDeleting, instancePending, instanceStopping, instanceShuttingDown
    case dependencyViolation, iamPropagation, ssmAgentRegistration, ssmInvocationDelay, ssmCommandPending, ssmCommandRunning
    case cloudTrailDelivery, cloudTrailScope, eventBridgeDelivery, taggingIndexLag, rateLimits
}

/// How an SSM command made to go wrong ends (GetCommandInvocation's `Status`).
public enum CommandOutcome: String, Sendable {
    case failed = "Failed", timedOut = "TimedOut", cancelled = "Cancelled", success = "Success"
}

extension Emulator {
    /// Every reclaw resource of a deployment, counted per component, read straight from the emulator with boto3:
    /// what a second reclaw run must leave at exactly one each.
    public func resourceCounts(_ name: String, region: String) async throws -> [String: Int] {
        try await resourceCounts(prefix: name, region: region)[name] ?? [:]
    }

}
