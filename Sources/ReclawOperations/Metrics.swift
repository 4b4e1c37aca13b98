import Foundation
import Prometheus
import ReclawAWS
import ReclawController
import ReclawEvents
import ReclawLease
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
    private let unownedSeries = Mutex<[String: Gauge]>([:])
    /// When this process started, for `process_start_time_seconds`.
    let startTime = ProcessMetrics.startTime()

    /// The metrics of one deployment, kept to be removed together.
    struct DeploymentSeries {
        var counters: [SeriesKey: Counter] = [:]
        var gauges: [SeriesKey: Gauge] = [:]
        var histograms: [SeriesKey: ValueHistogram] = [:]
    }

    static let durationBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]
    static let lagBuckets: [Double] = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
    static let conditionStatuses = ["True", "False", "Unknown"]

    public init() {
        registry.makeGauge(descriptor: Family.buildInfo, labels: [("version", ReclawVersion.string), ("swift_version", Self.swiftVersion)]).set(1.0)
        // Series without labels exist from the start, so a rate() has a first sample at zero.
        _ = registry.makeCounter(descriptor: Family.sourceFailures)
        for result in ["success", "failure"] {
            _ = registry.makeCounter(descriptor: Family.sourceFetches, labels: [("result", result)])
        }
        _ = registry.makeGauge(descriptor: Family.queueDepth)
        _ = registry.makeGauge(descriptor: Family.queueRunning)
        _ = registry.makeGauge(descriptor: Family.queueLongest)
        _ = registry.makeCounter(descriptor: Family.queueAdds)
        _ = registry.makeCounter(descriptor: Family.readsPaused)
        _ = registry.makeGauge(descriptor: Family.unanswered)
        _ = registry.makeCounter(descriptor: Family.queueRetries)
        registerAtZero()
    }

    // MARK: reconciles, per deployment

    /// `reclaw_reconcile_total{deployment,kind,result}` and `reclaw_reconcile_duration_seconds{deployment,kind}`.
    public func reconciled(deployment: String, kind: String, result: ReconcileResult, seconds: Double) {
        let labels = [("deployment", deployment), ("kind", kind)]
        withSeries(deployment) { s in
            counter(&s, Family.reconcileTotal, labels + [("result", result.rawValue)]).increment()
            let key = SeriesKey(Family.reconcileDuration, labels)
            if s.histograms[key] == nil {
                s.histograms[key] = registry.makeValueHistogram(descriptor: Family.reconcileDuration, labels: labels, buckets: Self.durationBuckets)
            }
            s.histograms[key]!.record(max(0, seconds))
        }
    }

    /// `reclaw_policy_evaluations_total{deployment,result}`.
    public func policyEvaluated(deployment: String, result: PolicyVerdict.Result) {
        withSeries(deployment) { s in
            counter(&s, Family.policy, [("deployment", deployment), ("result", result.rawValue)]).increment()
        }
    }

    /// `reclaw_deployment_condition{deployment,type,status}`: 1 for `status`, 0 for the other two.
    public func condition(deployment: String, type: String, status: String) {
        let current = Self.conditionStatuses.contains(status) ? status : "Unknown"
        withSeries(deployment) { s in
            for candidate in Self.conditionStatuses {
                gauge(&s, Family.condition, [("deployment", deployment), ("type", type), ("status", candidate)])
                    .set(candidate == current ? 1.0 : 0.0)
            }
        }
    }

    /// `reclaw_last_successful_reconcile_timestamp_seconds{deployment}`, moved by every successful reconcile.
    public func succeeded(deployment: String, at date: Date) {
        withSeries(deployment) { s in
            gauge(&s, Family.lastSuccess, [("deployment", deployment)])
                .set(date.timeIntervalSince1970)
        }
    }

    /// `reclaw_drifted_resources{deployment}`.
    public func drifted(deployment: String, resources: Int) {
        withSeries(deployment) { s in
            gauge(&s, Family.drifted, [("deployment", deployment)]).set(Double(resources))
        }
    }

    /// Removes every series of a deployment that left the repository.
    public func forget(deployment: String) {
        guard let s = series.withLock({ $0.removeValue(forKey: deployment) }) else { return }
        for c in s.counters.values { registry.unregisterCounter(c) }
        for g in s.gauges.values { registry.unregisterGauge(g) }
        for h in s.histograms.values { registry.unregisterValueHistogram(h) }
    }

    /// `reclaw_deployment_unowned{deployment}`: 1 for each deployment in `names`; a deployment
    /// named before and not now reads 0 until it is next named.
    public func unowned(_ names: Set<String>) {
        unownedSeries.withLock { all in
            for (name, g) in all where !names.contains(name) { g.set(0.0) }
            for name in names {
                let g = all[name] ?? registry.makeGauge(descriptor: Family.unowned, labels: [("deployment", name)])
                all[name] = g
                g.set(1.0)
            }
        }
    }

    // MARK: the source

    /// `reclaw_source_fetches_total{result}`, `reclaw_source_failures_total`, and on success
    /// `reclaw_source_last_fetch_timestamp_seconds`.
    public func sourceFetched(succeeded: Bool, at date: Date) {
        registry.makeCounter(descriptor: Family.sourceFetches, labels: [("result", succeeded ? "success" : "failure")])
            .increment()
        if succeeded {
            registry.makeGauge(descriptor: Family.sourceLastFetch).set(date.timeIntervalSince1970)
        } else {
            registry.makeCounter(descriptor: Family.sourceFailures).increment()
        }
    }

    /// `reclaw_source_rejections_total{reason}`: a revision refused for its signature.
    public func sourceRejected(reason: String) {
        registry.makeCounter(descriptor: Family.sourceRejections, labels: [("reason", reason)]).increment()
    }

    // MARK: the work queue

    /// `reclaw_workqueue_depth`, `reclaw_workqueue_running`, `reclaw_workqueue_longest_running_processor_seconds`.
    public func queue(depth: Int, running: Int, longestRunningSeconds: Double) {
        registry.makeGauge(descriptor: Family.queueDepth).set(Double(depth))
        registry.makeGauge(descriptor: Family.queueRunning).set(Double(running))
        registry.makeGauge(descriptor: Family.queueLongest).set(max(0, longestRunningSeconds))
    }

    /// `reclaw_workqueue_adds_total`.
    public func queueAdded() {
        registry.makeCounter(descriptor: Family.queueAdds).increment()
    }

    /// `reclaw_workqueue_retries_total`.
    public func queueRetried() {
        registry.makeCounter(descriptor: Family.queueRetries).increment()
    }

    // MARK: alerts and AWS

    /// `reclaw_alert_deliveries_total{outcome}`: delivered, refused, failed or dropped.
    public func alertDelivery(outcome: String) {
        registry.makeCounter(descriptor: Family.alertDeliveries, labels: [("outcome", outcome)]).increment()
    }

    /// `reclaw_aws_calls_total{service,operation,outcome}`.
    public func record(_ call: AWSCallRecord) async {
        registry.makeCounter(descriptor: Family.awsCalls,
                             labels: [("service", call.service.rawValue), ("operation", call.operation), ("outcome", call.outcome)]).increment()
    }

    // MARK: leases

    /// `reclaw_leases_held`.
    public func leases(held: Int) {
        registry.makeGauge(descriptor: Family.leasesHeld).set(Double(held))
    }

    /// `reclaw_lease_acquisitions_total`.
    public func leaseAcquired() {
        registry.makeCounter(descriptor: Family.leaseAcquisitions).increment()
    }

    /// `reclaw_lease_losses_total`.
    public func leaseLost() {
        registry.makeCounter(descriptor: Family.leaseLosses).increment()
    }

    /// `reclaw_replica_active{replica}`.
    public func replicaActive(_ replica: String, _ active: Bool) {
        registry.makeGauge(descriptor: Family.replicaActive, labels: [("replica", replica)]).set(active ? 1.0 : 0.0)
    }

    // MARK: CloudTrail events

    /// `reclaw_events_received_total`.
    public func eventReceived() {
        registry.makeCounter(descriptor: Family.eventsReceived).increment()
    }

    /// `reclaw_events_matched_total`.
    public func eventMatched() {
        registry.makeCounter(descriptor: Family.eventsMatched).increment()
    }

    /// `reclaw_events_ignored_total{reason}`.
    public func eventIgnored(reason: String) {
        registry.makeCounter(descriptor: Family.eventsIgnored, labels: [("reason", reason)]).increment()
    }

    /// `reclaw_event_lag_seconds`.
    public func eventLag(seconds: Double) {
        registry.makeValueHistogram(descriptor: Family.eventLag, buckets: Self.lagBuckets).record(max(0, seconds))
    }

    // MARK: the operations endpoint

    /// `reclaw_http_refusals_total{reason}`: requests the endpoint refused.
    public func httpRefused(reason: String) {
        registry.makeCounter(descriptor: Family.httpRefusals, labels: [("reason", reason)]).increment()
    }

    /// `reclaw_http_reads_paused_total`: a connection is not read until its client reads its answers.
    public func httpReadsPaused() {
        registry.makeCounter(descriptor: Family.readsPaused).increment()
    }

    /// `reclaw_http_unanswered_requests`: `delta` requests read (positive) or answered (negative).
    public func httpUnanswered(_ delta: Int) {
        registry.makeGauge(descriptor: Family.unanswered).increment(by: Double(delta))
    }

    /// `reclaw_push_notifications_accepted_total`.
    public func pushAccepted() {
        registry.makeCounter(descriptor: Family.pushes).increment()
    }

    /// The Prometheus text exposition format (version 0.0.4), the `process_*` series read now.
    public func render() -> String {
        registry.emitToString() + ProcessMetrics.read(startedAt: startTime).rendered
    }

    // MARK: helpers

    private func withSeries(_ deployment: String, _ body: (inout DeploymentSeries) -> Void) {
        series.withLock { all in body(&all[deployment, default: DeploymentSeries()]) }
    }

    private func counter(_ s: inout DeploymentSeries, _ family: MetricNameDescriptor, _ labels: [(String, String)]) -> Counter {
        let key = SeriesKey(family, labels)
        if let c = s.counters[key] { return c }
        let c = registry.makeCounter(descriptor: family, labels: labels)
        s.counters[key] = c
        return c
    }

    private func gauge(_ s: inout DeploymentSeries, _ family: MetricNameDescriptor, _ labels: [(String, String)]) -> Gauge {
        let key = SeriesKey(family, labels)
        if let g = s.gauges[key] { return g }
        let g = registry.makeGauge(descriptor: family, labels: labels)
        s.gauges[key] = g
        return g
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

/// The listener of CloudTrail's events counts them here.
extension Metrics: EventCounters {}

/// A replica's lease manager counts its leases here.
extension Metrics: LeaseCounters {}
