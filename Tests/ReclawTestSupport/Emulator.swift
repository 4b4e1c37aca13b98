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
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("reclaw-emulator-\(UUID().uuidString.prefix(8))").path
        let out = try Command.check([
            "python3", RepoPaths.path("scripts/emulator/emulator.py"), "start", "--state-dir", state,
            "--watch-pid", String(ProcessInfo.processInfo.processIdentifier),
        ])
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
    public func injectDrop(service: String? = nil, region: String? = nil, userAgent: String? = nil, operation: String, count: Int = 1) async throws {
        var body: [String: Any] = ["operation": operation, "drop": true, "count": count]
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

extension Emulator {
    /// Every reclaw resource of a deployment, counted per component, read straight from the emulator with boto3:
    /// what a second reclaw run must leave at exactly one each.
    public func resourceCounts(_ name: String, region: String) async throws -> [String: Int] {
        let out = try await Command.check(["python3", "-c", """
        import boto3, json, sys
        url, name, region = sys.argv[1:4]
        kw = dict(endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        ec2, iam, tag = boto3.client("ec2", **kw), boto3.client("iam", **kw), boto3.client("resourcegroupstaggingapi", **kw)
        f = [{"Name": "tag:reclaw:deployment", "Values": [name]}]
        counts = {}
        def add(tags):
            k = {t["Key"]: t["Value"] for t in tags or []}.get("reclaw:component", "?")
            counts[k] = counts.get(k, 0) + 1
        for v in ec2.describe_vpcs(Filters=f)["Vpcs"]: add(v.get("Tags"))
        for v in ec2.describe_subnets(Filters=f)["Subnets"]: add(v.get("Tags"))
        for v in ec2.describe_internet_gateways(Filters=f)["InternetGateways"]: add(v.get("Tags"))
        for v in ec2.describe_route_tables(Filters=f)["RouteTables"]: add(v.get("Tags"))
        for v in ec2.describe_security_groups(Filters=f)["SecurityGroups"]: add(v.get("Tags"))
        for v in ec2.describe_vpc_endpoints(Filters=f)["VpcEndpoints"]:
            if v["State"].lower() not in ("deleted", "deleting"): add(v.get("Tags"))
        for r in ec2.describe_instances(Filters=f + [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]:
            for i in r["Instances"]: add(i.get("Tags"))
        for page in iam.get_paginator("list_roles").paginate(PathPrefix="/reclaw/"):
            for r in page["Roles"]:
                if r["RoleName"] == f"reclaw-{name}-instance": counts["role"] = counts.get("role", 0) + 1
        for page in iam.get_paginator("list_instance_profiles").paginate(PathPrefix="/reclaw/"):
            for p in page["InstanceProfiles"]:
                if p["InstanceProfileName"] == f"reclaw-{name}-instance": counts["instance-profile"] = counts.get("instance-profile", 0) + 1
        for m in tag.get_resources(ResourceTypeFilters=["ssm:parameter"], TagFilters=[{"Key": "reclaw:deployment", "Values": [name]}])["ResourceTagMappingList"]:
            add(m["Tags"])
        print(json.dumps(counts))
        """, url, name, region])
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Int] ?? [:]
    }

}
