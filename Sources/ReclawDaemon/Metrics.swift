import Foundation
import ReclawAWS
import Synchronization

/// The daemon's Prometheus metrics: reconcile durations, AWS calls by service, operation and
/// outcome, drifted resources and the last successful reconcile per deployment.
public final class Metrics: AWSCallObserver, Sendable {
    struct Store {
        var awsCalls: [String: Double] = [:]
        var drifted: [String: Double] = [:]
        var lastSuccess: [String: Double] = [:]
        var durationBuckets: [Double: Double] = [:]
        var durationSum = 0.0
        var durationCount = 0.0
        var passes: [String: Double] = [:]
        var sourceFailures = 0.0
    }

    static let buckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
    private let store = Mutex(Store())

    public init() {}

    public func record(_ call: AWSCallRecord) async {
        let key = "service=\"\(call.service.rawValue)\",operation=\"\(call.operation)\",outcome=\"\(Self.escape(call.outcome))\""
        store.withLock { $0.awsCalls[key, default: 0] += 1 }
    }

    public func reconciled(seconds: Double, outcome: String) {
        store.withLock { s in
            for b in Self.buckets where seconds <= b { s.durationBuckets[b, default: 0] += 1 }
            s.durationSum += seconds
            s.durationCount += 1
            s.passes[outcome, default: 0] += 1
        }
    }

    public func succeeded(_ deployment: String, at date: Date = Date()) {
        store.withLock { $0.lastSuccess[deployment] = date.timeIntervalSince1970 }
    }

    public func drifted(_ deployment: String, resources: Int) {
        store.withLock { $0.drifted[deployment] = Double(resources) }
    }

    public func sourceFailed() {
        store.withLock { $0.sourceFailures += 1 }
    }

    /// The Prometheus text exposition format.
    public func render() -> String {
        let s = store.withLock { $0 }
        var out: [String] = []
        out.append("# HELP reclaw_reconcile_duration_seconds Time a reconcile pass took.")
        out.append("# TYPE reclaw_reconcile_duration_seconds histogram")
        for b in Self.buckets { out.append("reclaw_reconcile_duration_seconds_bucket{le=\"\(b)\"} \(Int(s.durationBuckets[b] ?? 0))") }
        out.append("reclaw_reconcile_duration_seconds_bucket{le=\"+Inf\"} \(Int(s.durationCount))")
        out.append("reclaw_reconcile_duration_seconds_sum \(s.durationSum)")
        out.append("reclaw_reconcile_duration_seconds_count \(Int(s.durationCount))")
        out.append("# HELP reclaw_reconcile_passes_total Reconcile passes by outcome.")
        out.append("# TYPE reclaw_reconcile_passes_total counter")
        for (k, v) in s.passes.sorted(by: { $0.key < $1.key }) { out.append("reclaw_reconcile_passes_total{outcome=\"\(k)\"} \(Int(v))") }
        out.append("# HELP reclaw_aws_calls_total AWS API calls by service, operation and outcome (ok or the error code).")
        out.append("# TYPE reclaw_aws_calls_total counter")
        for (k, v) in s.awsCalls.sorted(by: { $0.key < $1.key }) { out.append("reclaw_aws_calls_total{\(k)} \(Int(v))") }
        out.append("# HELP reclaw_drifted_resources Attributes found drifted at the last drift check, per deployment.")
        out.append("# TYPE reclaw_drifted_resources gauge")
        for (k, v) in s.drifted.sorted(by: { $0.key < $1.key }) { out.append("reclaw_drifted_resources{deployment=\"\(k)\"} \(Int(v))") }
        out.append("# HELP reclaw_last_successful_reconcile_timestamp_seconds When each deployment last converged.")
        out.append("# TYPE reclaw_last_successful_reconcile_timestamp_seconds gauge")
        for (k, v) in s.lastSuccess.sorted(by: { $0.key < $1.key }) { out.append("reclaw_last_successful_reconcile_timestamp_seconds{deployment=\"\(k)\"} \(v)") }
        out.append("# HELP reclaw_source_failures_total Fetches of the source that failed.")
        out.append("# TYPE reclaw_source_failures_total counter")
        out.append("reclaw_source_failures_total \(Int(s.sourceFailures))")
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
