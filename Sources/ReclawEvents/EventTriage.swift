/// Why an event woke no drift check (the `reason` label of `reclaw_events_ignored_total`).
public enum IgnoreReason: String, Sendable, CaseIterable {
    /// reclaw made the call: its request id is in the audit log.
    case own = "self"
    /// The call failed: it changed nothing.
    case failed
    /// A read: it changed nothing.
    case readOnly = "read-only"
    /// It names no resource of a deployment reclaw knows.
    case unknownResource = "unknown-resource"
    /// Its deployments are no longer in the source.
    case noDeployment = "no-deployment"
    /// Its deployments are held by another replica, which did not take the message in time.
    case notHeld = "not-held"
    /// Not a CloudTrail API call event.
    case malformed
}

/// Decides what an event means for the deployments: pure, over lookups the daemon answers.
public enum EventTriage {
    public enum Outcome: Sendable, Equatable {
        case ignore(IgnoreReason)
        /// Wake these deployments' drift checks; the resources of each the event named.
        case notice([String: [String]])
        /// Only deployments another replica holds: hand the message back for it.
        case elsewhere([String])
    }

    public static func triage(_ event: APICallEvent, madeRequest: (String) -> Bool, owner: (String) -> String?,
                              routing: (String) -> EventRouting) -> Outcome {
        if event.readOnly { return .ignore(.readOnly) }
        if event.errorCode != nil { return .ignore(.failed) }
        if event.isOwn(madeRequest: madeRequest) { return .ignore(.own) }
        var resources: [String: [String]] = [:]
        for name in event.names {
            if let deployment = owner(name) { resources[deployment, default: []].append(name) }
        }
        guard !resources.isEmpty else { return .ignore(.unknownResource) }
        let here = resources.filter { routing($0.key) == .here }
        if !here.isEmpty { return .notice(here) }
        let elsewhere = resources.keys.filter { routing($0) == .elsewhere }.sorted()
        return elsewhere.isEmpty ? .ignore(.noDeployment) : .elsewhere(elsewhere)
    }
}
