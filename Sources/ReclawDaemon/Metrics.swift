import Foundation
import Prometheus
import ReclawAWS
import Synchronization

/// How one reconcile of one deployment ended, as `reclaw_reconcile_total{result}` counts it.
public enum ReconcileResult: String, Sendable, CaseIterable { case success, failure, requeue, skipped }

/// The daemon's Prometheus metrics, named as Flux and controller-runtime users expect: reconciles
/// and their duration per deployment, the Ready/Stalled conditions, the last successful reconcile,
/// the work queue, the source, alert deliveries, AWS calls and `build_info`.
///
/// Each instance owns its registry (no global bootstrap), so tests get separate ones. Series of a
/// deployment that left the repository are removed with `forget(deployment:)`.
public final class Metrics: AWSCallObserver, Sendable {
    let registry = PrometheusCollectorRegistry()
    private let series = Mutex<[String: DeploymentSeries]>([:])

    /// The metrics of one deployment, kept to be removed together.
    struct DeploymentSeries {
        var counters: [String: Counter] = [:]
        var gauges: [String: Gauge] = [:]
        var histograms: [String: ValueHistogram] = [:]
    }

    static let durationBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]
    static let lagBuckets: [Double] = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
    static let conditionStatuses = ["True", "False", "Unknown"]

    /// The help text of every series: one place, since a family must always be registered with the same one.
    enum Help {
        static let reconcileTotal = "Reconciles by deployment, kind (apply, drift, attribution, prune) and result."
        static let reconcileDuration = "Time one reconcile of one deployment took, by kind."
        static let condition = "The status of each condition (Ready, Reconciling, Stalled) per deployment: 1 for the current status."
        static let lastSuccess = "When each deployment last reconciled successfully (Unix seconds)."
        static let drifted = "Attributes found drifted at the last drift check, per deployment."
        static let sourceFailures = "Fetches of the source that failed."
        static let sourceFetches = "Fetches of the source by result."
        static let sourceLastFetch = "When the source was last fetched successfully (Unix seconds)."
        static let queueDepth = "Deployments waiting in the work queue."
        static let queueAdds = "Deployments added to the work queue."
        static let queueRetries = "Deployments put back on the work queue to be retried."
        static let queueLongest = "How long the longest-running reconcile has been running."
        static let queueRunning = "Reconciles running now."
        static let alertDeliveries = "Alert deliveries by outcome (delivered, refused, failed, dropped)."
        static let awsCalls = "AWS API calls by service, operation and outcome (ok or the error code)."
        static let buildInfo = "The reclaw version and the Swift version it was built with."
        static let leasesHeld = "Deployment leases this replica holds."
        static let leaseAcquisitions = "Deployment leases acquired."
        static let leaseLosses = "Deployment leases lost before they were released."
        static let replicaActive = "Whether each known replica is active (1) or not (0)."
        static let eventsReceived = "CloudTrail events received from the queue."
        static let eventsMatched = "CloudTrail events that matched a deployment."
        static let eventsIgnored = "CloudTrail events ignored, by reason."
        static let eventLag = "Time from a CloudTrail event to its arrival at reclaw."
        static let httpRefusals = "Requests the operations endpoint refused, by reason."
        static let pushes = "Push notifications accepted (each triggers a fetch)."
    }

    public init() {
        registry.makeGauge(name: "reclaw_build_info", labels: [("version", ReclawVersion.string), ("swift_version", Self.swiftVersion)],
                           help: Help.buildInfo).set(1.0)
        // Series without labels exist from the start, so a rate() has a first sample at zero.
        _ = registry.makeCounter(name: "reclaw_source_failures_total", help: Help.sourceFailures)
        for result in ["success", "failure"] {
            _ = registry.makeCounter(name: "reclaw_source_fetches_total", labels: [("result", result)], help: Help.sourceFetches)
        }
        _ = registry.makeGauge(name: "reclaw_workqueue_depth", help: Help.queueDepth)
        _ = registry.makeGauge(name: "reclaw_workqueue_running", help: Help.queueRunning)
        _ = registry.makeGauge(name: "reclaw_workqueue_longest_running_processor_seconds", help: Help.queueLongest)
        _ = registry.makeCounter(name: "reclaw_workqueue_adds_total", help: Help.queueAdds)
        _ = registry.makeCounter(name: "reclaw_workqueue_retries_total", help: Help.queueRetries)
    }

    // MARK: reconciles, per deployment

    /// `reclaw_reconcile_total{deployment,kind,result}` and `reclaw_reconcile_duration_seconds{deployment,kind}`.
    public func reconciled(deployment: String, kind: String, result: ReconcileResult, seconds: Double) {
        let labels = [("deployment", deployment), ("kind", kind)]
        withSeries(deployment) { s in
            counter(&s, "reclaw_reconcile_total", labels + [("result", result.rawValue)], Help.reconcileTotal).increment()
            let key = "reclaw_reconcile_duration_seconds/" + kind
            if s.histograms[key] == nil {
                s.histograms[key] = registry.makeValueHistogram(name: "reclaw_reconcile_duration_seconds", labels: labels,
                                                                buckets: Self.durationBuckets, help: Help.reconcileDuration)
            }
            s.histograms[key]!.record(max(0, seconds))
        }
    }

    /// `reclaw_deployment_condition{deployment,type,status}`: 1 for `status`, 0 for the other two.
    public func condition(deployment: String, type: String, status: String) {
        let current = Self.conditionStatuses.contains(status) ? status : "Unknown"
        withSeries(deployment) { s in
            for candidate in Self.conditionStatuses {
                gauge(&s, "reclaw_deployment_condition", [("deployment", deployment), ("type", type), ("status", candidate)], Help.condition)
                    .set(candidate == current ? 1.0 : 0.0)
            }
        }
    }

    /// `reclaw_last_successful_reconcile_timestamp_seconds{deployment}`, moved by every successful reconcile.
    public func succeeded(deployment: String, at date: Date) {
        withSeries(deployment) { s in
            gauge(&s, "reclaw_last_successful_reconcile_timestamp_seconds", [("deployment", deployment)], Help.lastSuccess)
                .set(date.timeIntervalSince1970)
        }
    }

    /// `reclaw_drifted_resources{deployment}`.
    public func drifted(deployment: String, resources: Int) {
        withSeries(deployment) { s in
            gauge(&s, "reclaw_drifted_resources", [("deployment", deployment)], Help.drifted).set(Double(resources))
        }
    }

    /// Removes every series of a deployment that left the repository.
    public func forget(deployment: String) {
        guard let s = series.withLock({ $0.removeValue(forKey: deployment) }) else { return }
        for c in s.counters.values { registry.unregisterCounter(c) }
        for g in s.gauges.values { registry.unregisterGauge(g) }
        for h in s.histograms.values { registry.unregisterValueHistogram(h) }
    }

    // MARK: the source

    /// `reclaw_source_fetches_total{result}`, `reclaw_source_failures_total`, and on success
    /// `reclaw_source_last_fetch_timestamp_seconds`.
    public func sourceFetched(succeeded: Bool, at date: Date) {
        registry.makeCounter(name: "reclaw_source_fetches_total", labels: [("result", succeeded ? "success" : "failure")], help: Help.sourceFetches)
            .increment()
        if succeeded {
            registry.makeGauge(name: "reclaw_source_last_fetch_timestamp_seconds", help: Help.sourceLastFetch).set(date.timeIntervalSince1970)
        } else {
            registry.makeCounter(name: "reclaw_source_failures_total", help: Help.sourceFailures).increment()
        }
    }

    // MARK: the work queue

    /// `reclaw_workqueue_depth`, `reclaw_workqueue_running`, `reclaw_workqueue_longest_running_processor_seconds`.
    public func queue(depth: Int, running: Int, longestRunningSeconds: Double) {
        registry.makeGauge(name: "reclaw_workqueue_depth", help: Help.queueDepth).set(Double(depth))
        registry.makeGauge(name: "reclaw_workqueue_running", help: Help.queueRunning).set(Double(running))
        registry.makeGauge(name: "reclaw_workqueue_longest_running_processor_seconds", help: Help.queueLongest).set(max(0, longestRunningSeconds))
    }

    /// `reclaw_workqueue_adds_total`.
    public func queueAdded() {
        registry.makeCounter(name: "reclaw_workqueue_adds_total", help: Help.queueAdds).increment()
    }

    /// `reclaw_workqueue_retries_total`.
    public func queueRetried() {
        registry.makeCounter(name: "reclaw_workqueue_retries_total", help: Help.queueRetries).increment()
    }

    // MARK: alerts and AWS

    /// `reclaw_alert_deliveries_total{outcome}`: delivered, refused, failed or dropped.
    public func alertDelivery(outcome: String) {
        registry.makeCounter(name: "reclaw_alert_deliveries_total", labels: [("outcome", outcome)], help: Help.alertDeliveries).increment()
    }

    /// `reclaw_aws_calls_total{service,operation,outcome}`.
    public func record(_ call: AWSCallRecord) async {
        registry.makeCounter(name: "reclaw_aws_calls_total",
                             labels: [("service", call.service.rawValue), ("operation", call.operation), ("outcome", call.outcome)],
                             help: Help.awsCalls).increment()
    }

    // MARK: leases

    /// `reclaw_leases_held`.
    public func leases(held: Int) {
        registry.makeGauge(name: "reclaw_leases_held", help: Help.leasesHeld).set(Double(held))
    }

    /// `reclaw_lease_acquisitions_total`.
    public func leaseAcquired() {
        registry.makeCounter(name: "reclaw_lease_acquisitions_total", help: Help.leaseAcquisitions).increment()
    }

    /// `reclaw_lease_losses_total`.
    public func leaseLost() {
        registry.makeCounter(name: "reclaw_lease_losses_total", help: Help.leaseLosses).increment()
    }

    /// `reclaw_replica_active{replica}`.
    public func replicaActive(_ replica: String, _ active: Bool) {
        registry.makeGauge(name: "reclaw_replica_active", labels: [("replica", replica)], help: Help.replicaActive).set(active ? 1.0 : 0.0)
    }

    // MARK: CloudTrail events

    /// `reclaw_events_received_total`.
    public func eventReceived() {
        registry.makeCounter(name: "reclaw_events_received_total", help: Help.eventsReceived).increment()
    }

    /// `reclaw_events_matched_total`.
    public func eventMatched() {
        registry.makeCounter(name: "reclaw_events_matched_total", help: Help.eventsMatched).increment()
    }

    /// `reclaw_events_ignored_total{reason}`.
    public func eventIgnored(reason: String) {
        registry.makeCounter(name: "reclaw_events_ignored_total", labels: [("reason", reason)], help: Help.eventsIgnored).increment()
    }

    /// `reclaw_event_lag_seconds`.
    public func eventLag(seconds: Double) {
        registry.makeValueHistogram(name: "reclaw_event_lag_seconds", buckets: Self.lagBuckets, help: Help.eventLag).record(max(0, seconds))
    }

    // MARK: the operations endpoint

    /// `reclaw_http_refusals_total{reason}`: requests the endpoint refused.
    public func httpRefused(reason: String) {
        registry.makeCounter(name: "reclaw_http_refusals_total", labels: [("reason", reason)], help: Help.httpRefusals).increment()
    }

    /// `reclaw_push_notifications_accepted_total`.
    public func pushAccepted() {
        registry.makeCounter(name: "reclaw_push_notifications_accepted_total", help: Help.pushes).increment()
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func render() -> String {
        registry.emitToString()
    }

    // MARK: helpers

    private func withSeries(_ deployment: String, _ body: (inout DeploymentSeries) -> Void) {
        series.withLock { all in body(&all[deployment, default: DeploymentSeries()]) }
    }

    private func counter(_ s: inout DeploymentSeries, _ name: String, _ labels: [(String, String)], _ help: String) -> Counter {
        let key = Self.key(name, labels)
        if let c = s.counters[key] { return c }
        let c = registry.makeCounter(name: name, labels: labels, help: help)
        s.counters[key] = c
        return c
    }

    private func gauge(_ s: inout DeploymentSeries, _ name: String, _ labels: [(String, String)], _ help: String) -> Gauge {
        let key = Self.key(name, labels)
        if let g = s.gauges[key] { return g }
        let g = registry.makeGauge(name: name, labels: labels, help: help)
        s.gauges[key] = g
        return g
    }

    static func key(_ name: String, _ labels: [(String, String)]) -> String {
        ([name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1}")
    }

    /// The Swift compiler that built reclaw, for `reclaw_build_info`.
    static let swiftVersion: String = {
        #if compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()
}
