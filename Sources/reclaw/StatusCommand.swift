import ArgumentParser
import Foundation
import ReclawLease
import ReclawState
import ReclawTime

/// `reclaw status`: what reclaw knows about each deployment. A status file that cannot be read
/// is named, and the others are still shown.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show each deployment's revisions, conditions and owner.")

    @Flag(help: "Print the status as JSON.") var json = false
    @Option(help: "The state directory (default: $RECLAW_STATE_DIR, $XDG_STATE_HOME/reclaw or ~/.local/state/reclaw).") var stateDir: String?
    @Option(help: "Read every replica's deployments from this lease table instead of the state directory.") var leaseTable: String?
    @Option(help: "The lease table's region (default: AWS_REGION, else us-east-1).") var leaseRegion: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let store = StateStore(directory: stateDir ?? StateStore.defaultDirectory())
        let scan: StatusScan
        if let leaseTable {
            scan = try await Self.scan(table: leaseTable, region: leaseRegion, global: global)
        } else {
            do { scan = try store.scan() } catch { throw CLIError("\(error)") }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            let rows = scan.statuses.map { StatusRow($0) } + scan.unreadable.sorted { $0.key < $1.key }.map { StatusRow(unreadable: $0.key, $0.value) }
            print(String(decoding: try encoder.encode(rows.sorted { $0.deployment < $1.deployment }), as: UTF8.self))
        } else if scan.statuses.isEmpty && scan.unreadable.isEmpty {
            print("No deployments in \(store.directory).")
        } else {
            for s in scan.statuses { print(Self.text(s)) }
            for (name, error) in scan.unreadable.sorted(by: { $0.key < $1.key }) {
                print("\(name)\n  Status: UNREADABLE (\(error.code.rawValue)): \(error)")
            }
        }
        if !scan.unreadable.isEmpty { throw ExitCode(1) }
    }

    static func text(_ s: DeploymentStatus) -> String {
        var lines = ["\(s.deployment) (\(s.region ?? "?"))\(s.owner.map { ", owned by \($0)" } ?? "")"]
        if let unowned = s.unowned { lines.append("  UNOWNED: no live replica owns it (\(unowned))") }
        for type in ConditionType.allCases {
            guard let c = s.condition(type) else {
                if type == .ready { lines.append("  Ready: Unknown") }
                continue
            }
            lines.append("  \(type.rawValue): \(c.status.rawValue) (\(c.reason.rawValue))\(c.message.isEmpty ? "" : ": \(c.message)")")
        }
        lines.append("  Last applied revision:   \(s.lastAppliedRevision ?? "none")\(s.lastAppliedAt.map { " at \(seconds($0))" } ?? "")")
        lines.append("  Last attempted revision: \(s.lastAttemptedRevision ?? "none")\(s.lastAttemptedAt.map { " at \(seconds($0))" } ?? "")")
        if let location = s.location { lines.append("  Spec: \(location)") }
        if let signer = s.verifiedSigner { lines.append("  Signed by: \(signer)") }
        let elsewhere = s.resourceRegions.filter { $0 != s.region }
        if !elsewhere.isEmpty { lines.append("  Resources also in: \(elsewhere.joined(separator: ", ")) (deleted once \(s.region ?? "?") is Ready)") }
        lines.append("  Drift: \(s.drift.isEmpty ? "none" : s.drift.joined(separator: "; "))\(s.lastDriftCheckAt.map { " (checked \(seconds($0)))" } ?? "")")
        return lines.joined(separator: "\n")
    }

    /// Every replica's deployments, from the lease table: each status with its owner.
    static func scan(table: String, region: String?, global: GlobalOptions) async throws -> StatusScan {
        let runtime = Runtime(global: global, options: try RuntimeOptions.parse([]), audit: .whenAsked)
        let region = region ?? runtime.environment.region ?? "us-east-1"
        let rows: [(lease: LeaseRecord, documents: [String: String])]
        do { rows = try await DynamoLeaseTable(client: runtime.client, table: table, region: region).leasesWithState() } catch {
            throw CLIError("the lease table \(table) in \(region) cannot be read: \(error)")
        }
        var scan = StatusScan()
        for (lease, documents) in rows {
            guard let text = documents["status"] else { continue }
            do {
                var status = try StateStore.decoder.decode(DeploymentStatus.self, from: Data(text.utf8))
                status.owner = lease.owner.isEmpty ? "(released)" : lease.owner
                status.unowned = lease.unownedNote
                scan.statuses.append(status)
            } catch {
                scan.unreadable[lease.deployment] = .corrupt("the status of \(lease.deployment) in the lease table is not readable: \(error)")
            }
        }
        scan.statuses.sort { $0.deployment < $1.deployment }
        return scan
    }

    /// A time to the second: status times are not precise to the millisecond.
    static func seconds(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}

/// One deployment's status as `reclaw status --json` prints it: conditions in the Kubernetes
/// convention (`status` "True", "False" or "Unknown", `reason`, `message`, `lastTransitionTime`,
/// `observedRevision`).
struct StatusRow: Encodable {
    var deployment: String
    var region: String?
    /// Every region holding the deployment's resources (more than one while it moves).
    var regions: [String]?
    var owner: String?
    /// Why no live replica owns the deployment, when a replica saw that.
    var unowned: String?
    var lastAppliedRevision: String?
    var lastAttemptedRevision: String?
    var lastAppliedAt: Date?
    var lastAttemptedAt: Date?
    var lastDriftCheckAt: Date?
    var location: String?
    var conditions: [Condition]
    var drift: [String]
    /// Why the status cannot be read, for a status file that cannot.
    var error: String?

    init(_ s: DeploymentStatus) {
        deployment = s.deployment
        region = s.region
        regions = s.resourceRegions
        owner = s.owner
        unowned = s.unowned
        lastAppliedRevision = s.lastAppliedRevision
        lastAttemptedRevision = s.lastAttemptedRevision
        lastAppliedAt = s.lastAppliedAt
        lastAttemptedAt = s.lastAttemptedAt
        lastDriftCheckAt = s.lastDriftCheckAt
        location = s.location
        conditions = s.conditions
        drift = s.drift
    }

    init(unreadable name: String, _ error: StateError) {
        deployment = name
        conditions = [Condition(type: .ready, status: .unknown, reason: .stateUnavailable, message: "\(error)", lastTransitionTime: Clocks.date())]
        drift = []
        self.error = "\(error)"
    }
}
