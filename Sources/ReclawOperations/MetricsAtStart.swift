import Prometheus
import ReclawEvents
import ReclawSignatures

/// The series a dashboard expects before anything happened: documented counters at zero, with
/// the label values known up front, and controller-runtime's workqueue timings.
extension Metrics {
    /// The `name` label of the `workqueue_*` series: the deployments' reconcile queue.
    static let queueName = "deployment"
    /// controller-runtime's buckets for the workqueue's durations, 10⁻⁸ s to 10³ s.
    static let queueBuckets: [Double] = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000]

    /// Every reason `reclaw_http_refusals_total` counts.
    static let refusalReasons = ["header_too_large", "header_timeout", "body_timeout", "body_too_large", "body_too_fragmented",
                                 "bad_request", "not_found", "method_not_allowed", "too_many_connections"]
        + PushRefusal.allCases.map(\.rawValue)
    static let deliveryOutcomes = ["delivered", "refused", "failed", "dropped"]

    func registerAtZero() {
        for family in [Family.leaseAcquisitions, Family.leaseLosses, Family.pushes, Family.eventsReceived, Family.eventsMatched] {
            _ = registry.makeCounter(descriptor: family)
        }
        _ = registry.makeGauge(descriptor: Family.leasesHeld)
        for reason in Self.refusalReasons { _ = registry.makeCounter(descriptor: Family.httpRefusals, labels: [("reason", reason)]) }
        for outcome in Self.deliveryOutcomes { _ = registry.makeCounter(descriptor: Family.alertDeliveries, labels: [("outcome", outcome)]) }
        for code in SignatureRefusalReason.allCodes { _ = registry.makeCounter(descriptor: Family.sourceRejections, labels: [("reason", code)]) }
        for reason in IgnoreReason.allCases { _ = registry.makeCounter(descriptor: Family.eventsIgnored, labels: [("reason", reason.rawValue)]) }
        queueTimings(queued: [], worked: [], unfinishedSeconds: 0)
    }

    /// `workqueue_queue_duration_seconds{name}`, `workqueue_work_duration_seconds{name}` (one
    /// observation each) and `workqueue_unfinished_work_seconds{name}`.
    public func queueTimings(queued: [Double], worked: [Double], unfinishedSeconds: Double) {
        let labels = [("name", Self.queueName)]
        let wait = registry.makeValueHistogram(descriptor: Family.queueDuration, labels: labels, buckets: Self.queueBuckets)
        for seconds in queued { wait.record(max(0, seconds)) }
        let work = registry.makeValueHistogram(descriptor: Family.workDuration, labels: labels, buckets: Self.queueBuckets)
        for seconds in worked { work.record(max(0, seconds)) }
        registry.makeGauge(descriptor: Family.unfinishedWork, labels: labels).set(max(0, unfinishedSeconds))
    }
}

extension Metrics.Family {
    static var queueDuration: MetricNameDescriptor { family("workqueue_queue_duration_seconds", "How long a deployment waited in the work queue before its reconcile started.") }
    static var workDuration: MetricNameDescriptor { family("workqueue_work_duration_seconds", "How long a reconcile taken from the work queue ran.") }
    static var unfinishedWork: MetricNameDescriptor { family("workqueue_unfinished_work_seconds", "Seconds the reconciles running now have been running, summed.") }
}
