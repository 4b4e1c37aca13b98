import Foundation
import ReclawAWS
import Synchronization

/// How one reconcile ended, for the metrics.
public enum ReconcileResult: String, Sendable { case success, failure, requeue, skipped }

/// The daemon's Prometheus metrics.
public final class Metrics: AWSCallObserver, Sendable {
    struct Store {
        var counters: [String: Double] = [:]
        var gauges: [String: Double] = [:]
    }

    private let store = Mutex(Store())

    public init() {
        set("reclaw_build_info{version=\"\(ReclawVersion.string)\"}", 1)
    }

    private func add(_ key: String, _ value: Double = 1) { store.withLock { $0.counters[key, default: 0] += value } }
    private func set(_ key: String, _ value: Double) { store.withLock { $0.gauges[key] = value } }

    public func record(_ call: AWSCallRecord) async {
        add("reclaw_aws_calls_total{service=\"\(call.service.rawValue)\",operation=\"\(call.operation)\",outcome=\"\(Self.escape(call.outcome))\"}")
    }

    public func reconciled(deployment: String, kind: String, result: ReconcileResult, seconds: Double) {
        add("reclaw_reconcile_total{deployment=\"\(deployment)\",kind=\"\(kind)\",result=\"\(result.rawValue)\"}")
        add("reclaw_reconcile_duration_seconds_sum{deployment=\"\(deployment)\",kind=\"\(kind)\"}", seconds)
        add("reclaw_reconcile_duration_seconds_count{deployment=\"\(deployment)\",kind=\"\(kind)\"}")
    }

    public func condition(deployment: String, type: String, status: String) {
        for s in ["True", "False", "Unknown"] {
            set("reclaw_deployment_condition{deployment=\"\(deployment)\",type=\"\(type)\",status=\"\(s)\"}", s == status ? 1 : 0)
        }
    }

    public func succeeded(deployment: String, at date: Date) {
        set("reclaw_last_successful_reconcile_timestamp_seconds{deployment=\"\(deployment)\"}", date.timeIntervalSince1970)
    }

    public func drifted(deployment: String, resources: Int) {
        set("reclaw_drifted_resources{deployment=\"\(deployment)\"}", Double(resources))
    }

    public func sourceFetched(succeeded: Bool, at date: Date) {
        add("reclaw_source_fetches_total{result=\"\(succeeded ? "success" : "failure")\"}")
        if !succeeded { add("reclaw_source_failures_total") }
        set("reclaw_source_last_fetch_timestamp_seconds", date.timeIntervalSince1970)
    }

    public func queue(depth: Int, running: Int, longestRunningSeconds: Double) {
        set("reclaw_workqueue_depth", Double(depth))
        set("reclaw_workqueue_running", Double(running))
        set("reclaw_workqueue_longest_running_processor_seconds", longestRunningSeconds)
    }

    public func queueAdded() { add("reclaw_workqueue_adds_total") }
    public func queueRetried() { add("reclaw_workqueue_retries_total") }
    public func alertDelivery(outcome: String) { add("reclaw_alert_deliveries_total{outcome=\"\(outcome)\"}") }
    public func leases(held: Int) { set("reclaw_leases_held", Double(held)) }
    public func leaseAcquired() { add("reclaw_lease_acquisitions_total") }
    public func leaseLost() { add("reclaw_lease_losses_total") }
    public func replicaActive(_ replica: String, _ active: Bool) { set("reclaw_replica_active{replica=\"\(replica)\"}", active ? 1 : 0) }
    public func eventReceived() { add("reclaw_events_received_total") }
    public func eventMatched() { add("reclaw_events_matched_total") }
    public func eventIgnored(reason: String) { add("reclaw_events_ignored_total{reason=\"\(reason)\"}") }
    public func eventLag(seconds: Double) { add("reclaw_event_lag_seconds_sum", seconds); add("reclaw_event_lag_seconds_count") }

    public func forget(deployment: String) {
        store.withLock { s in
            s.counters = s.counters.filter { !$0.key.contains("deployment=\"\(deployment)\"") }
            s.gauges = s.gauges.filter { !$0.key.contains("deployment=\"\(deployment)\"") }
        }
    }

    /// The Prometheus text exposition format.
    public func render() -> String {
        let s = store.withLock { $0 }
        var out: [String] = []
        for (k, v) in s.counters.sorted(by: { $0.key < $1.key }) { out.append("\(k) \(v)") }
        for (k, v) in s.gauges.sorted(by: { $0.key < $1.key }) { out.append("\(k) \(v)") }
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
