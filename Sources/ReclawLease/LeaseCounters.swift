/// What a replica's lease manager counts, as the metrics take it: the leases held, acquired and
/// lost, which replicas are active and which deployments no live replica owns. The metrics
/// registry conforms; the protocol keeps this module free of the operations endpoint's.
public protocol LeaseCounters: Sendable {
    func leases(held: Int)
    func leaseAcquired()
    func leaseLost()
    func replicaActive(_ replica: String, _ active: Bool)
    func unowned(_ names: Set<String>)
}
