import Foundation
import ReclawTestSupport
import Testing

/// Three `reclaw run` replicas sharing thirty deployments through a lease table on the emulator's
/// DynamoDB, through a kill -9, a SIGSTOP past the lease, a rolling restart and a DynamoDB outage.
@Suite struct ReplicaTests {
    /// Long enough that three replicas applying thirty deployments at once still renew in time on
    /// two cores (at 6 s a burst of creates starved renewals past their deadline when other suites
    /// ran beside it); every wait past a lease below is a multiple of it.
    static let lease = 8.0
    static let interval = 2.0

    /// The fleet: one repository, one lease table, a state directory per replica.
    final class Fleet: @unchecked Sendable {
        let emulator: Emulator
        let upstream: Upstream
        let dir = TemporaryDirectory("reclaw-replicas")
        let table = uniqueName("leases")
        let region = "eu-south-1"
        let names: [String]
        var processes: [String: Process] = [:]

        init(emulator: Emulator, count: Int) throws {
            self.emulator = emulator
            upstream = try Upstream()
            let prefix = uniqueName("rep")
            names = (0..<count).map { "\(prefix)-\($0)" }
        }

        func env(_ replica: String) -> [String: String] {
            var env = emulator.environment
            env["RECLAW_STATE_DIR"] = dir.file("state-\(replica)")
            return env
        }

        func spec(_ name: String, version: String = "2026.2.3") -> String {
            minimalSpec(name, region: region, version: version, extra: "  network: {vpcEndpoints: []}")
        }

        @discardableResult
        func commit(version: String = "2026.2.3", only: [String]? = nil) throws -> String {
            try upstream.commit(Dictionary(uniqueKeysWithValues: (only ?? names).map { ("\($0).yaml", spec($0, version: version)) }))
        }

        func start(_ replica: String, lease: Double = ReplicaTests.lease, driftInterval: String = "1h", extra: [String] = []) throws {
            let log = dir.file("\(replica).log")
            // A restarted replica appends to its log: a failure's message shows its whole history.
            if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
            let output = FileHandle(forWritingAtPath: log)
            output?.seekToEndOfFile()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: RepoPaths.reclawBinary)
            process.arguments = ["run", "--source", upstream.url, "--interval", "\(Int(ReplicaTests.interval))s", "--drift-interval", driftInterval,
                                 "--lease-table", table, "--lease-region", "us-east-1", "--lease-duration", "\(Int(lease))s",
                                 "--replica-id", replica, "--deployment-concurrency", "8"] + extra
            process.environment = env(replica)
            process.standardOutput = output
            process.standardError = output
            try process.run()
            processes[replica] = process
        }

        func stop(_ replica: String, signal: Int32 = SIGTERM) {
            guard let p = processes[replica] else { return }
            kill(p.processIdentifier, signal)
            if signal == SIGTERM || signal == SIGKILL { p.waitUntilExit() }
        }

        /// Stops every replica still running, all at once (each releases its leases on its way out).
        func stopAll() {
            let running = processes.values.filter(\.isRunning)
            for p in running {
                kill(p.processIdentifier, SIGCONT)
                kill(p.processIdentifier, SIGTERM)
            }
            for p in running { p.waitUntilExit() }
        }

        /// Every deployment's status across the replicas, from the lease table.
        func statuses() async throws -> [String: [String: Any]] {
            let r = try await Command.run([RepoPaths.reclawBinary, "status", "--json", "--lease-table", table, "--lease-region", "us-east-1"],
                                          environment: env("status"))
            let rows = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []
            return Dictionary(rows.compactMap { row in (row["deployment"] as? String).map { ($0, row) } }, uniquingKeysWith: { a, _ in a })
        }

        func applied(_ revision: String) async throws -> Set<String> {
            Set(try await statuses().filter { $0.value["lastAppliedRevision"] as? String == revision }.keys)
        }

        func owners() async throws -> [String: String] {
            try await statuses().compactMapValues { $0["owner"] as? String }
        }

        /// The mutating AWS calls made for `names` by `replica` (by its User-Agent).
        func mutatingCalls(by replica: String, for names: Set<String>) async throws -> [String] {
            try await emulator.requests(userAgent: "replica/\(replica)").compactMap { r -> String? in
                guard let op = r["operation"] as? String, let ua = r["userAgent"] as? String,
                      !["Describe", "List", "Get", "Lookup"].contains(where: op.hasPrefix),
                      names.contains(where: { ua.contains("deployment/\($0);") }) else { return nil }
                return op
            }
        }

        /// The deployments `replica` changed in AWS (by the User-Agent of its mutating calls).
        func deploymentsChanged(by replica: String) async throws -> Set<String> {
            Set(try await emulator.requests(userAgent: "replica/\(replica)").compactMap { r -> String? in
                guard let op = r["operation"] as? String, let ua = r["userAgent"] as? String,
                      !["Describe", "List", "Get", "Lookup"].contains(where: op.hasPrefix) else { return nil }
                return names.first { ua.contains("deployment/\($0);") }
            })
        }

        /// Exactly one of each resource, for every deployment of the fleet.
        func expectOneOfEach() async throws {
            let counts = try await emulator.resourceCounts(prefix: String(names[0].dropLast(2)), region: region)
            #expect(Set(counts.keys) == Set(names), "\(Set(names).subtracting(counts.keys).sorted())")
            for (name, components) in counts {
                #expect(components.count == 14 && components.values.allSatisfy { $0 == 1 }, "\(name): \(components)")
            }
        }

        func log(_ replica: String) -> String { (try? String(contentsOfFile: dir.file("\(replica).log"), encoding: .utf8)) ?? "" }

        /// The replicas' log lines that name one of `deployments`, each prefixed by its replica.
        func logLines(about deployments: Set<String>) -> String {
            ["r1", "r2", "r3"].flatMap { r in
                log(r).split(separator: "\n").filter { line in deployments.contains { line.contains($0) } }.map { "\(r): \($0)" }
            }.suffix(200).joined(separator: "\n")
        }
    }

    @Test func threeReplicasShareThirtyDeploymentsThroughAKillAPauseARestartAndAnOutage() async throws {
        // An emulator of its own: the DynamoDB outage below must not reach other tests.
        let emulator = try Emulator.start()
        defer { emulator.stop() }
        let fleet = try Fleet(emulator: emulator, count: 30)
        defer { fleet.stopAll() }
        let created = try await Command.run([RepoPaths.reclawBinary, "lease", "create-table", fleet.table, "--region", "us-east-1"],
                                            environment: fleet.env("setup"))
        #expect(created.status == 0, "\(created.stderr)")
        let first = try fleet.commit()
        for r in ["r1", "r2", "r3"] { try fleet.start(r) }

        // Each deployment applied by exactly one replica, spread evenly.
        #expect(try await waitUntil(300, every: .seconds(1)) { try await fleet.applied(first).count == 30 }, "\(fleet.log("r1").suffix(3000))")
        let owners = try await fleet.owners()
        let shares = Dictionary(grouping: owners.values, by: { $0 }).mapValues(\.count)
        #expect(shares.count == 3 && shares.values.allSatisfy { (7...13).contains($0) }, "\(shares)")
        try await fleet.expectOneOfEach()
        var appliers: [String: Set<String>] = [:]
        for r in ["r1", "r2", "r3"] {
            for name in try await fleet.deploymentsChanged(by: r) { appliers[name, default: []].insert(r) }
        }
        let doubled = appliers.filter { $0.value.count != 1 }
        #expect(appliers.count == 30 && doubled.isEmpty, "\(doubled)\n\(fleet.logLines(about: Set(doubled.keys)))")

        // kill -9: the dead replica's deployments move to the others once its lease has passed.
        let dead = Set(owners.filter { $0.value == "r1" }.keys)
        fleet.stop("r1", signal: SIGKILL)
        let second = try fleet.commit(version: "2026.3.0", only: Array(dead))
        #expect(try await waitUntil(120) { try await fleet.applied(second).isSuperset(of: dead) })
        #expect(try await fleet.owners().filter { dead.contains($0.key) }.values.allSatisfy { $0 == "r2" || $0 == "r3" })

        // SIGSTOP past the lease: the paused replica makes no mutating call for its deployments after it resumes.
        let paused = Set(try await fleet.owners().filter { $0.value == "r2" }.keys)
        let callsBefore = try await fleet.mutatingCalls(by: "r2", for: paused).count
        fleet.stop("r2", signal: SIGSTOP)
        let third = try fleet.commit(version: "2026.4.0", only: Array(paused))
        #expect(try await waitUntil(120) { try await fleet.applied(third).isSuperset(of: paused) }, "the others did not take over")
        fleet.stop("r2", signal: SIGCONT)
        try await Task.sleep(for: .seconds(Self.lease))
        #expect(try await fleet.mutatingCalls(by: "r2", for: paused).count == callsBefore, "the paused replica changed AWS after it resumed")

        // A rolling restart (r1 back, then r2 and r3 one after the other): after each, every
        // deployment has a live owner again and the restarted replica holds a share; in the end the
        // three share evenly again, and nothing was applied twice while the leases moved.
        try fleet.start("r1")
        let mutatingBefore = try await emulator.mutatingCallCount(prefix: fleet.names[0].dropLast(2))
        /// The deployments without a live owner, and whether `replica` owns any.
        func ownership(rejoined replica: String) async throws -> (orphans: [String], rejoined: Bool) {
            let o = try await fleet.owners()
            let orphans = fleet.names.filter { name in
                let owner = o[name] ?? ""
                return !(["r1", "r2", "r3"].contains(owner) && fleet.processes[owner]?.isRunning == true)
            }
            return (orphans, o.values.contains(replica))
        }
        func settles(after replica: String) async throws {
            var last: (orphans: [String], rejoined: Bool) = ([], false)
            #expect(try await waitUntil(Self.lease * 6) { last = try await ownership(rejoined: replica); return last.orphans.isEmpty && last.rejoined },
                    "after \(replica) (re)started: \(last)")
        }
        try await settles(after: "r1")
        for r in ["r2", "r3"] {
            fleet.stop(r)
            try fleet.start(r)
            try await settles(after: r)
        }
        var spread: [String: Int] = [:]
        #expect(try await waitUntil(Self.lease * 6) {
            spread = Dictionary(grouping: try await fleet.owners().values, by: { $0 }).mapValues(\.count)
            let orphans = try await ownership(rejoined: "r1").orphans
            return spread.count == 3 && spread.values.allSatisfy { (7...13).contains($0) } && orphans.isEmpty
        }, "\(spread)")
        #expect(try await emulator.mutatingCallCount(prefix: fleet.names[0].dropLast(2)) == mutatingBefore, "a converged deployment was applied again")

        // DynamoDB unreachable for a moment: leases lapse safely or survive, and a change still lands once.
        let outage = try await emulator.injectError(service: "dynamodb", operation: "*", code: "InternalServerError", status: 500, count: nil)
        try await Task.sleep(for: .seconds(Self.lease * 1.5))
        try await emulator.removeFault(outage)
        let fourth = try fleet.commit(version: "2026.5.0")
        #expect(try await waitUntil(240, every: .seconds(1)) { try await fleet.applied(fourth).count == 30 })
        try await fleet.expectOneOfEach()
    }
}

extension Emulator {
    /// How many mutating calls the emulator received for deployments whose names start with `prefix`.
    func mutatingCallCount(prefix: some StringProtocol) async throws -> Int {
        try await requests(userAgent: "deployment/\(prefix)").filter { r in
            guard let op = r["operation"] as? String else { return false }
            return !["Describe", "List", "Get", "Lookup"].contains(where: op.hasPrefix)
        }.count
    }
}
