import Foundation
import Synchronization

/// The state documents a deployment has had written since they were last shared, so replicas can
/// copy them to the lease table before the next AWS change (a journal entry reaches the table
/// before the create it records is sent).
public final class StateChanges: Sendable {
    /// The kinds of document kept per deployment.
    public enum Document: String, Sendable, CaseIterable {
        case status, journal, attributions
    }

    private let pending = Mutex<[String: Set<Document>]>([:])

    public init() {}

    public func mark(_ deployment: String, _ document: Document) {
        pending.withLock { $0[deployment, default: []].insert(document) }
    }

    /// The documents changed since the last call, which forgets them.
    public func take(_ deployment: String) -> Set<Document> {
        pending.withLock { $0.removeValue(forKey: deployment) ?? [] }
    }

    /// Puts documents back after a failed copy, so the next attempt copies them again.
    public func restore(_ deployment: String, _ documents: Set<Document>) {
        guard !documents.isEmpty else { return }
        pending.withLock { $0[deployment, default: []].formUnion(documents) }
    }

    public var deployments: [String] { pending.withLock { $0.keys.sorted() } }

    /// The file of a deployment's document in a state directory.
    public static func path(_ document: Document, _ deployment: String, in directory: String) -> String {
        switch document {
        case .status: return "\(directory)/deployments/\(deployment).json"
        case .journal: return "\(directory)/journal/\(deployment).json"
        case .attributions: return "\(directory)/attributions/\(deployment).json"
        }
    }
}
