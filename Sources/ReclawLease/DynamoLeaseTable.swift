import Foundation
import ReclawAWS
import ReclawJSON
import ReclawTime

/// The lease table in DynamoDB: one item per replica (`replica#ID`) and one per deployment
/// (`lease#NAME`), keyed by `pk`. Every lease write is conditional on the record version (or the
/// epoch, for the deployment's shared state), so two replicas never both believe they own a
/// deployment's latest state. A replica's round reads the index `kind`, which holds only the small
/// records: a deployment's state documents (tens of kilobytes) stay out of every round's read.
public struct DynamoLeaseTable: Sendable {
    public let dynamo: DynamoDBClient
    public let table: String

    /// The index rounds read: by `kind` (`replica` or `lease`), with the attributes a round needs.
    public static let index = DynamoDBClient.SecondaryIndex(
        name: "kind", key: "kind", include: ["owner", "version", "epoch", "durationMs", "enforcedMs", "hasState", "unownedNote", "expired", "leaving", "scheme"])

    public init(client: AWSClient, table: String, region: String) {
        dynamo = DynamoDBClient(client: client, region: region)
        self.table = table
    }

    static func key(_ pk: String) -> [String: JSONValue] { ["pk": ["S": .string(pk)]] }
    static func s(_ value: String) -> JSONValue { ["S": .string(value)] }
    static func n(_ value: Int) -> JSONValue { ["N": .string(String(value))] }

    /// Every replica and lease record (without the deployments' state), from the index: a moment
    /// behind the table at most, which the coordinator allows for (every write is conditional).
    public func read() async throws(AWSError) -> (replicas: [ReplicaRecord], leases: [LeaseRecord]) {
        let replicaItems: [[String: JSONValue]], leaseItems: [[String: JSONValue]]
        do {
            replicaItems = try await dynamo.query(table: table, index: Self.index, value: "replica")
            leaseItems = try await dynamo.query(table: table, index: Self.index, value: "lease")
        } catch where error.code == "ValidationException" {
            throw AWSError(kind: .service, code: error.code,
                           message: "\(error.message) (the table \(table) has no index kind: run `reclaw lease create-table \(table)` once to add it)",
                           service: "dynamodb", operation: "Query", region: dynamo.region)
        }
        var replicas: [ReplicaRecord] = [], leases: [LeaseRecord] = []
        for item in replicaItems + leaseItems {
            guard let pk = item["pk"]?["S"]?.stringValue, let version = item["version"]?["S"]?.stringValue else { continue }
            let duration = Int(item["durationMs"]?["N"]?.stringValue ?? "") ?? 20_000
            if pk.hasPrefix("replica#") {
                replicas.append(ReplicaRecord(id: String(pk.dropFirst(8)), version: version, durationMs: duration,
                                              enforcedMs: item["enforcedMs"]?["N"]?.stringValue.flatMap { Int($0) },
                                              expired: item["expired"]?["BOOL"]?.boolValue ?? false,
                                              leaving: item["leaving"]?["BOOL"]?.boolValue ?? false,
                                              scheme: Int(item["scheme"]?["N"]?.stringValue ?? "") ?? 1))
            } else if pk.hasPrefix("lease#") {
                leases.append(LeaseRecord(deployment: String(pk.dropFirst(6)), owner: item["owner"]?["S"]?.stringValue ?? "", version: version,
                                          epoch: Int(item["epoch"]?["N"]?.stringValue ?? "") ?? 0, durationMs: duration,
                                          hasState: item["hasState"]?["BOOL"]?.boolValue ?? false,
                                          unownedNote: item["unownedNote"]?["S"]?.stringValue))
            }
        }
        return (replicas, leases)
    }

    /// Makes one of the coordinator's writes, as `replica`.
    public func write(_ action: LeaseCoordinator.Action, as replica: String) async -> LeaseCoordinator.Outcome {
        do {
            switch action {
            case .heartbeat(let r, let expecting):
                // A session goes on only from a version this replica wrote: once another replica has
                // marked the item expired (or it was removed), the heartbeat fails.
                let versions = expecting.enumerated().map { (":e\($0.offset)", Self.s($0.element)) }
                try await dynamo.updateItem(table: table, key: Self.key("replica#\(r.id)"), update: "SET #k = :kind, version = :v, durationMs = :d, enforcedMs = :f, #l = :l, #s = :s REMOVE #x",
                                            condition: versions.isEmpty ? nil
                                                : "(" + versions.map { "version = \($0.0)" }.joined(separator: " OR ") + ") AND attribute_not_exists(#x)",
                                            names: ["#k": "kind", "#x": "expired", "#l": "leaving", "#s": "scheme"],
                                            values: [":kind": Self.s("replica"), ":v": Self.s(r.version), ":d": Self.n(r.durationMs), ":f": Self.n(r.enforcedMs ?? r.durationMs), ":l": ["BOOL": .bool(r.leaving)],
                                                     ":s": Self.n(r.scheme)]
                                                .merging(versions) { a, _ in a })
            case .retire(let id):
                try await dynamo.deleteItem(table: table, key: Self.key("replica#\(id)"))
            case .expire(let r, let expecting):
                try await dynamo.updateItem(table: table, key: Self.key("replica#\(r.id)"), update: "SET version = :v, #x = :t",
                                            condition: "version = :expected", names: ["#x": "expired"],
                                            values: [":v": Self.s("expired by \(replica) at \(expecting)"), ":t": ["BOOL": .bool(true)],
                                                     ":expected": Self.s(expecting)])
            case .acquire(let r, let expecting):
                try await dynamo.updateItem(
                    table: table, key: Self.key("lease#\(r.deployment)"), update: "SET #k = :kind, #o = :o, version = :v, epoch = :e, durationMs = :d REMOVE unownedNote",
                    condition: expecting == nil ? "attribute_not_exists(pk)" : "version = :expected", names: ["#o": "owner", "#k": "kind"],
                    values: [":kind": Self.s("lease"), ":o": Self.s(r.owner), ":v": Self.s(r.version), ":e": Self.n(r.epoch), ":d": Self.n(r.durationMs)]
                        .merging(expecting.map { [":expected": Self.s($0)] } ?? [:]) { a, _ in a })
            case .renew(let r, let expecting), .release(let r, let expecting):
                try await dynamo.updateItem(
                    table: table, key: Self.key("lease#\(r.deployment)"), update: "SET #k = :kind, #o = :o, version = :v, durationMs = :d REMOVE unownedNote",
                    condition: "version = :expected AND #o = :me", names: ["#o": "owner", "#k": "kind"],
                    values: [":kind": Self.s("lease"), ":o": Self.s(r.owner), ":v": Self.s(r.version), ":d": Self.n(r.durationMs), ":expected": Self.s(expecting),
                             ":me": Self.s(replica)])
            }
            return .written
        } catch {
            return error.code == "ConditionalCheckFailedException" ? .conflict : .failed
        }
    }

    /// Leaves a note on a lease that no live replica owns, for `reclaw status`, only while the
    /// record is still at `version`: the record itself (owner, version) is not changed, so whoever
    /// watches it still sees it stand still, and the owner's next write clears the note.
    public func noteUnowned(_ deployment: String, version: String, note: String) async throws(AWSError) {
        try await dynamo.updateItem(table: table, key: Self.key("lease#\(deployment)"), update: "SET unownedNote = :n",
                                    condition: "version = :v", values: [":n": Self.s(note), ":v": Self.s(version)])
    }

    // MARK: the deployment's shared state

    /// The state documents kept with a deployment's lease (status, journal, attributions), by name.
    public func state(_ deployment: String) async throws(AWSError) -> [String: String] {
        guard let item = try await dynamo.getItem(table: table, key: Self.key("lease#\(deployment)")) else { return [:] }
        var out: [String: String] = [:]
        for (name, value) in item where name.hasPrefix("state.") {
            if let text = value["S"]?.stringValue { out[String(name.dropFirst(6))] = text }
        }
        return out
    }

    /// Every deployment's lease with its state documents (for `reclaw status` across replicas).
    public func leasesWithState() async throws(AWSError) -> [(lease: LeaseRecord, documents: [String: String])] {
        try await dynamo.scan(table: table).compactMap { item in
            guard let pk = item["pk"]?["S"]?.stringValue, pk.hasPrefix("lease#") else { return nil }
            let lease = LeaseRecord(deployment: String(pk.dropFirst(6)), owner: item["owner"]?["S"]?.stringValue ?? "",
                                    version: item["version"]?["S"]?.stringValue ?? "", epoch: Int(item["epoch"]?["N"]?.stringValue ?? "") ?? 0,
                                    durationMs: Int(item["durationMs"]?["N"]?.stringValue ?? "") ?? 0,
                                    hasState: item["hasState"]?["BOOL"]?.boolValue ?? false, unownedNote: item["unownedNote"]?["S"]?.stringValue)
            var documents: [String: String] = [:]
            for (name, value) in item where name.hasPrefix("state.") {
                if let text = value["S"]?.stringValue { documents[String(name.dropFirst(6))] = text }
            }
            return (lease, documents)
        }
    }

    /// Writes (or, for nil, removes) a state document, only while `owner` holds the lease at `epoch`.
    /// Throws ConditionalCheckFailedException when it does not.
    public func putState(_ deployment: String, document: String, text: String?, owner: String, epoch: Int) async throws(AWSError) {
        let attribute = "#doc"
        var update = text == nil ? "REMOVE \(attribute)" : "SET \(attribute) = :t"
        var values: [String: JSONValue] = [":me": Self.s(owner), ":e": Self.n(epoch)]
        if let text { values[":t"] = Self.s(text) }
        if document == "status" {
            // Whether the deployment still has state, readable by a scan without its documents.
            update = text == nil ? "REMOVE \(attribute) SET hasState = :h" : "SET \(attribute) = :t, hasState = :h"
            values[":h"] = ["BOOL": .bool(text != nil)]
        }
        try await dynamo.updateItem(table: table, key: Self.key("lease#\(deployment)"), update: update,
                                    condition: "#o = :me AND epoch = :e", names: ["#o": "owner", attribute: "state.\(document)"], values: values)
    }

    /// Creates the table (on-demand, key `pk`, with the index rounds read), or adds the index to a
    /// table made without it and marks the items already there; waits until both are active.
    public func create(pollEvery: Duration = .seconds(1), timeout: Duration = .seconds(120)) async throws(AWSError) {
        if try await dynamo.tableStatus(table) == nil {
            try await dynamo.createTable(table, key: "pk", index: Self.index)
        }
        let deadline = Clocks.now() + timeout
        var added = false
        while true {
            let status = try await dynamo.tableStatus(table)
            let index = status == "ACTIVE" ? try await dynamo.indexStatus(table, Self.index.name) : nil
            if status == "ACTIVE", index == nil, !added {
                try await dynamo.addIndex(table, Self.index)
                added = true
            } else if status == "ACTIVE", index == "ACTIVE" {
                break
            }
            guard Clocks.now() < deadline else {
                throw AWSError(kind: .service, code: "WaiterTimeout", message: "the table \(table) and its index kind did not become ACTIVE within \(timeout)",
                               service: "dynamodb", operation: "DescribeTable", region: dynamo.region)
            }
            do { try await Clocks.sleep(for: pollEvery) } catch {
                throw AWSError.cancelled(service: "dynamodb", operation: "DescribeTable", region: dynamo.region)
            }
        }
        try await markKinds()
    }

    /// Finds the heartbeats of replicas of a reclaw before the index (they never write `kind`) and
    /// marks them, so every round's read of the index sees them from then on. A Scan of the whole
    /// table: run at a replica's start and every few minutes, not every round.
    public func markOlderReplicas() async throws(AWSError) {
        try await markKinds(onlyReplicas: true)
    }

    /// Gives the items written before the index existed their `kind`, so the index lists them.
    private func markKinds(onlyReplicas: Bool = false) async throws(AWSError) {
        for item in try await dynamo.scan(table: table, projection: "pk, #k", names: ["#k": "kind"]) where item["kind"] == nil {
            if onlyReplicas, item["pk"]?["S"]?.stringValue?.hasPrefix("replica#") != true { continue }
            guard let pk = item["pk"]?["S"]?.stringValue else { continue }
            let kind = pk.hasPrefix("replica#") ? "replica" : pk.hasPrefix("lease#") ? "lease" : nil
            guard let kind else { continue }
            do {
                try await dynamo.updateItem(table: table, key: Self.key(pk), update: "SET #k = :k", condition: "attribute_exists(pk) AND attribute_not_exists(#k)",
                                            names: ["#k": "kind"], values: [":k": Self.s(kind)])
            } catch where error.code == "ConditionalCheckFailedException" {
                continue  // removed, or marked by a replica, meanwhile
            }
        }
    }
}
