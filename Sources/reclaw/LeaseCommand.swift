import ArgumentParser
import Foundation
import Logging
import ReclawAWS
import ReclawTime
import ReclawController
import ReclawDaemon
import ReclawLease
import ReclawOperations
import ReclawState

/// How a daemon runs as one of several replicas sharing deployments through DynamoDB leases.
struct ReplicaOptions: ParsableArguments {
    @Option(help: "Run as one of several replicas sharing deployments through this DynamoDB table (see `reclaw lease create-table`).")
    var leaseTable: String?

    @Option(help: "The lease table's region (default: AWS_REGION, else us-east-1).")
    var leaseRegion: String?

    @Option(help: "How long a lease lasts without renewal: a dead replica's deployments move after about this long (3s to 5m; a lease record claiming longer counts only this long).")
    var leaseDuration: String = "20s"

    @Option(help: "This replica's name in the lease table (default: host name and process id).")
    var replicaID: String?

    var replica: String { replicaID ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())" }

    /// The lease manager, when a lease table is given; checks that the table exists.
    func leaseManager(runtime: Runtime, changes: StateChanges?, metrics: Metrics, clock: any TimeSource, prune: Bool) async throws -> LeaseManager? {
        guard let leaseTable, let changes else { return nil }
        let region = leaseRegion ?? runtime.environment.region ?? "us-east-1"
        // Lease traffic is not an AWS change to audit: its own client, counted by the metrics only. A
        // heartbeat must not outlast its lease: the SDKs' three attempts, no waiting out throttling.
        let client = AWSClient(credentials: runtime.client.credentials, environment: runtime.environment,
                               retry: .standard(environment: runtime.environment, deadlines: nil), logger: Logger(label: "reclaw.lease"),
                               observer: metrics)
        let table = DynamoLeaseTable(client: client, table: leaseTable, region: region)
        let status: String?, index: String?
        do {
            status = try await table.dynamo.tableStatus(leaseTable)
            index = status == nil ? nil : try await table.dynamo.indexStatus(leaseTable, DynamoLeaseTable.index.name)
        } catch {
            throw CLIError("the lease table \(leaseTable) in \(region) cannot be read: \(error)")
        }
        guard status == "ACTIVE" else {
            throw CLIError(status == nil ? "there is no lease table \(leaseTable) in \(region); make it with `reclaw lease create-table \(leaseTable) --region \(region)`"
                                         : "the lease table \(leaseTable) in \(region) is \(status!), not ACTIVE")
        }
        guard index == "ACTIVE" else {
            throw CLIError(index == nil ? "the lease table \(leaseTable) in \(region) has no index kind (made by an older reclaw); add it with `reclaw lease create-table \(leaseTable) --region \(region)`"
                                        : "the lease table \(leaseTable)'s index kind is \(index!), not ACTIVE yet")
        }
        return LeaseManager(table: table, settings: .init(replica: replica, duration: DurationText.parse(leaseDuration)!), clock: clock,
                            stateDirectory: runtime.state.directory, changes: changes, metrics: metrics, prune: prune,
                            logger: Logger(label: "reclaw.lease"))
    }
}

/// `reclaw lease`: the lease table replicas share.
struct LeaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lease", abstract: "Manage the DynamoDB lease table replicas share.",
                                                    subcommands: [CreateTable.self])

    /// `reclaw lease create-table TABLE [--region R]`.
    struct CreateTable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-table",
                                                        abstract: "Make the lease table: on-demand capacity, key pk (a string).")

        @Argument(help: "The table's name.") var table: String
        @Option(help: "The region (default: AWS_REGION, else us-east-1).") var region: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let runtime = Runtime(global: global, options: try RuntimeOptions.parse([]))
            let region = region ?? runtime.environment.region ?? "us-east-1"
            do {
                try await DynamoLeaseTable(client: runtime.client, table: table, region: region).create()
            } catch {
                throw CLIError("cannot make the lease table \(table) in \(region): \(error)")
            }
            print("The lease table \(table) in \(region) is ready.")
        }
    }
}
