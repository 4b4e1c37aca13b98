import Foundation

/// With several replicas: which deployments this one works on, and how its state follows a
/// deployment from replica to replica.
extension ReconcileDaemon {
    /// The deployments this replica may work on: all of them, or those whose lease it holds and
    /// whose state it has adopted.
    func owns(_ names: Set<String>) -> Set<String> {
        guard leases != nil else { return names }
        return names.intersection(core.withLock { $0.owned })
    }

    /// Deployments a worker is handling now, and (until a shutdown) those queued, for a prune
    /// among others: their leases are kept until that work ends.
    var busyDeployments: Set<String> {
        core.withLock { c in
            c.scheduler.tracked.filter { c.scheduler.isBusy($0) || (!c.scheduler.shuttingDown && c.scheduler.isQueued($0)) }
        }
    }

    /// Takes over the deployments gained (their state copied from the lease table first) and
    /// lets go of those lost.
    func ownershipChanged(gained: Set<String>, lost: Set<String>) async {
        guard let leases else { return }
        var adopted: Set<String> = []
        for name in gained.sorted() {
            do {
                try await leases.adopt(name)
                adopted.insert(name)
            } catch {
                logger.error("cannot take over the deployment: \(error)", metadata: ["deployment": "\(name)"])
            }
        }
        let now = clock.now()
        core.withLock { c in
            c.owned.subtract(lost)
            c.owned.formUnion(adopted)
            for name in lost {
                c.stalled[name] = nil
                c.findings[name] = nil
                c.alerts.forget(deployment: name)
            }
            c.scheduler.track(c.source.names.union(c.prunable).intersection(c.owned), now: now)
            for name in adopted where c.source.specs[name] != nil || c.prunable.contains(name) {
                c.scheduler.enqueue(name, c.source.specs[name] != nil ? .newRevision : .prune, now: now)
            }
        }
        for name in lost { forgetConditions(name) }
        // What the previous owner wrote is what this replica now says, until it writes its own.
        for name in adopted { if let status = try? reconciler.state.load(name) { conditionsWritten(status) } }
        if !adopted.isEmpty { await scheduleAttributions() }
        post.yield(.wake)
    }

    /// Copies what changed in the deployments' state to the lease table; a deployment whose lease
    /// moved is let go quietly, one whose state cannot be shared is stalled.
    func share(_ names: some Sequence<String>) async {
        guard let leases else { return }
        for name in Set(names).sorted() {
            do { try await leases.share(name) } catch {
                await stall(name, leases.epoch(name) == nil ? .notOwned : .stateUnavailable, "\(error)", revision: revision)
            }
        }
    }
}
