import Foundation

/// Replicas of a reclaw before the heartbeat scheme: found by a search of the whole table now and
/// then (the index does not list them until marked), and reported while they share the table.
extension LeaseManager {
    /// How often the whole table is searched for heartbeats of older replicas, which the index
    /// does not list until they are marked.
    static let olderReplicaSearch: Duration = .seconds(300)

    func searchOlderReplicas() async {
        let now = clock.now()
        let due = inner.withLock { i in
            guard !i.shuttingDown, i.searchedOlderAt.map({ now - $0 >= Self.olderReplicaSearch }) ?? true else { return false }
            i.searchedOlderAt = now
            return true
        }
        guard due else { return }
        do { try await table.markOlderReplicas() } catch {
            logger.debug("the lease table cannot be searched for older replicas", metadata: ["aws.error_code": "\(error.code)"])
        }
    }

    /// Says, once per change, that a replica of an older lease scheme shares the table: this one
    /// holds nothing meanwhile, since the older one takes leases whose items are not rewritten.
    func reportOlderPeers() {
        let (older, changed) = inner.withLock { i in
            defer { i.olderPeers = i.coordinator.olderPeers }
            return (i.coordinator.olderPeers, i.olderPeers != i.coordinator.olderPeers)
        }
        guard changed else { return }
        if older.isEmpty {
            logger.info("no replica of an older lease scheme shares the table any more", metadata: ["replica": "\(replica)"])
        } else {
            logger.error("replicas of an older reclaw share the lease table: this replica takes no lease until every replica runs this version",
                         metadata: ["replica": "\(replica)", "older": "\(older)"])
        }
    }
}
