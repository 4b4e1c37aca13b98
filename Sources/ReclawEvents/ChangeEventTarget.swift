import Foundation
import ReclawAudit

/// What the event listener asks of the controller it wakes: which deployments and regions there
/// are, which deployment a resource belongs to, and where a matched change goes. The daemon is
/// the one implementation; the protocol keeps this module free of the controller's.
public protocol ChangeEventTarget: AnyObject, Sendable {
    /// Whether the source has been read once: before that, no deployment is known to map events to.
    var hasReadSource: Bool { get }
    /// The regions CloudTrail's events about the source's deployments arrive in.
    var eventRegions: Set<String> { get }
    /// The audit log, which tells reclaw's own requests from others'.
    var auditLog: AuditLog? { get }
    /// Where the listener counts the events it receives, matches and ignores.
    var eventCounters: any EventCounters { get }
    /// Indexes every status in the state directory.
    func indexStoredStatuses()
    /// With replicas: indexes every deployment's status kept in the lease table. False without
    /// replicas (nothing is shared, nothing was read).
    @discardableResult
    func indexSharedStatuses() async -> Bool
    /// The deployment a resource id, role name or parameter name belongs to.
    func deployment(owning resource: String) -> String?
    /// Whether this daemon handles `deployment`'s drift checks, another replica does, or none.
    func routing(_ deployment: String) -> EventRouting
    /// Remembers the ids an event about a deployment names.
    func index(eventNames names: [String], deployment: String)
    /// The resources these names stand for.
    func resources(named names: [String]) -> [String]
    /// Wakes the drift checks of the deployments the notices name; `handled` runs once all ran.
    func notice(_ notices: [ChangeNotice], handled: @escaping @Sendable () async -> Void) async
}

/// The event counters of the metrics, as the listener sees them.
public protocol EventCounters: Sendable {
    func eventReceived()
    func eventMatched()
    func eventIgnored(reason: String)
    func eventLag(seconds: Double)
}
