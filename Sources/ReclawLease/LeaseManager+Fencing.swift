import Foundation
import ReclawAWS
import ReclawState
import Synchronization

/// Fencing: a mutating AWS call for a deployment goes only while this replica holds its lease
/// with time left, after the deployment's changed state reached the table at the lease's epoch;
/// and a deployment taken over adopts the state its previous owner shared.
extension LeaseManager {
    public func record(_ call: AWSCallRecord) async {}

    /// A mutating call for a deployment goes only while this replica holds its lease with time
    /// left, and only after the deployment's changed state is in the table at the lease's epoch.
    public func admit(_ call: AWSCallIntent) async throws(AWSError) {
        guard let deployment = call.context.deployment else { return }
        do {
            try await share(deployment)
        } catch {
            throw AWSError(kind: .refused, code: "LeaseNotHeld", message: "not sent: \(error)", service: call.service.rawValue,
                           operation: call.operation, region: call.region)
        }
    }

    /// Checked again right before a signed call goes to the wire, without suspending: the time left
    /// until this replica's renew deadline on the deployment's lease (the request may neither start
    /// nor run past it), or a refusal when the lease is not held with time left (a replica paused
    /// since `admit`, say).
    public func fence(_ call: AWSCallIntent) throws(AWSError) -> Duration? {
        guard let deployment = call.context.deployment else { return nil }
        let now = clock.now()
        let left = inner.withLock { i -> Duration? in
            i.coordinator.hold(deployment, now: now).map { i.coordinator.renewDeadline - (now - $0.renewedAt) }
        }
        guard let left, left > .zero else {
            throw AWSError(kind: .refused, code: "LeaseNotHeld", message: "not sent: this replica (\(replica)) no longer holds the lease of \(deployment) with time left",
                           service: call.service.rawValue, operation: call.operation, region: call.region)
        }
        return left
    }

    /// Copies the deployment's changed state documents to its lease item, conditioned on the
    /// lease's epoch. Throws when the lease is not held with time left, or the copy fails (then
    /// the documents stay marked, for the next attempt).
    public func share(_ deployment: String) async throws(LeaseError) {
        let now = clock.now()
        guard let hold = inner.withLock({ $0.coordinator.hold(deployment, now: now) }) else {
            throw LeaseError("this replica (\(replica)) does not hold the lease of \(deployment) with time left")
        }
        let documents = changes.take(deployment)
        var left = documents
        for document in documents.sorted(by: { $0.rawValue < $1.rawValue }) {
            let path = StateChanges.path(document, deployment, in: stateDirectory)
            let text: String?
            do { text = try PrivateFiles.read(path).map { String(decoding: $0, as: UTF8.self) } } catch {
                changes.restore(deployment, left)
                throw LeaseError("the state of \(deployment) cannot be shared: \(error)")
            }
            do {
                try await table.putState(deployment, document: document.rawValue, text: text, owner: replica, epoch: hold.epoch)
                left.remove(document)
            } catch {
                changes.restore(deployment, left)
                throw LeaseError(error.code == "ConditionalCheckFailedException"
                    ? "the lease of \(deployment) moved to another replica (epoch \(hold.epoch) is no longer current)"
                    : "the state of \(deployment) cannot be written to the lease table: \(error)")
            }
        }
    }

    /// Replaces the local copy of a deployment's state with the table's, when this replica takes
    /// the deployment over.
    public func adopt(_ deployment: String) async throws(LeaseError) {
        let documents: [String: String]
        do { documents = try await table.state(deployment) } catch {
            throw LeaseError("the state of \(deployment) cannot be read from the lease table: \(error)")
        }
        _ = changes.take(deployment)
        for document in StateChanges.Document.allCases {
            let path = StateChanges.path(document, deployment, in: stateDirectory)
            do {
                if let text = documents[document.rawValue] {
                    try DurableFile.write(Data(text.utf8), to: path)
                } else {
                    try PrivateFiles.remove(path)
                }
            } catch {
                throw LeaseError("the state of \(deployment) cannot be kept locally: \(error)")
            }
        }
    }

    /// The epoch of a held lease (for status and audit), nil when not held.
    public func epoch(_ deployment: String) -> Int? {
        let now = clock.now()
        return inner.withLock { $0.coordinator.hold(deployment, now: now)?.epoch }
    }
}
