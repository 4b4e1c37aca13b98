import Foundation
import ReclawController
import ReclawDaemon
import ReclawOperations
import ReclawTestSupport
import Testing

/// Series a dashboard expects from the first scrape: documented counters at zero, the
/// `process_*` series and controller-runtime's workqueue timings.
extension MetricsTests {
    /// The counters docs/operations.md's metrics table names.
    static func documentedCounters() throws -> [String] {
        let text = try String(contentsOfFile: RepoPaths.path("docs/operations.md"), encoding: .utf8)
        let table = text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("| `") }
        let names = table.flatMap { row in
            row.split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element.prefix { $0 != "{" }) }
        }
        return Array(Set(names.filter { $0.hasSuffix("_total") })).sorted()
    }

    @Test func aFreshRegistryRendersEveryDocumentedCounterAtZero() throws {
        let text = Metrics().render()
        let counters = try Self.documentedCounters()
        #expect(counters.contains("reclaw_lease_losses_total") && counters.contains("reclaw_http_refusals_total"))
        // Per-deployment and per-call series have no label values before the first reconcile or call.
        let labelledByWork = ["reclaw_reconcile_total", "reclaw_policy_evaluations_total", "reclaw_aws_calls_total"]
        for name in counters where !labelledByWork.contains(name) {
            let zero = text.split(separator: "\n").contains { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
            #expect(zero, "\(name) is missing from a fresh /metrics")
        }
        for line in [
            "reclaw_lease_losses_total 0", "reclaw_lease_acquisitions_total 0", "reclaw_push_notifications_accepted_total 0",
            #"reclaw_http_refusals_total{reason="bad_signature"} 0"#, #"reclaw_http_refusals_total{reason="header_timeout"} 0"#,
            #"reclaw_alert_deliveries_total{outcome="dropped"} 0"#, #"reclaw_events_ignored_total{reason="self"} 0"#,
            #"reclaw_source_rejections_total{reason="unsigned"} 0"#,
            #"workqueue_queue_duration_seconds_count{name="deployment"} 0"#,
            #"workqueue_work_duration_seconds_count{name="deployment"} 0"#,
            #"workqueue_unfinished_work_seconds{name="deployment"} 0.0"#,
        ] {
            #expect(text.contains(line + "\n"), "missing: \(line)")
        }
    }

    @Test func theProcessSeriesAreReadFromProcAndArePlausible() throws {
        let text = Metrics().render()
        func value(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        let rss = try #require(value("process_resident_memory_bytes"))
        #expect(rss > 1_000_000 && rss < 64_000_000_000)
        let cpu = try #require(value("process_cpu_seconds_total"))
        #expect(cpu > 0)
        let open = try #require(value("process_open_fds"))
        let max = try #require(value("process_max_fds"))
        #expect(open >= 3 && max >= open)
        let start = try #require(value("process_start_time_seconds"))
        let now = Date().timeIntervalSince1970
        #expect(start <= now + 1 && start > now - 86_400 * 7)
        #expect(text.contains("# TYPE process_cpu_seconds_total counter\n"))
    }

    @Test func theWorkqueueTimingsComeFromTheSchedulersOwnTimestamps() {
        var s = WorkScheduler(settings: .init(interval: .seconds(60), driftInterval: .seconds(3600), workers: 1))
        s.track(["a", "b"], now: .zero)
        s.enqueue("a", .newRevision, now: .seconds(1))
        s.enqueue("b", .newRevision, now: .seconds(2))
        _ = s.next(now: .seconds(5))
        #expect(s.unfinishedWork(now: .seconds(8)) == .seconds(3))
        s.reconciled("a", .converged, now: .seconds(9))
        _ = s.next(now: .seconds(10))
        let timings = s.takeTimings()
        #expect(timings.queued == [.seconds(4), .seconds(8)])
        #expect(timings.worked == [.seconds(4)])
        #expect(s.takeTimings().queued.isEmpty)
        let m = Metrics()
        m.queueTimings(queued: timings.queued.map { Double($0.components.seconds) }, worked: timings.worked.map { Double($0.components.seconds) },
                       unfinishedSeconds: 2.5)
        let text = m.render()
        for line in [
            #"workqueue_queue_duration_seconds_count{name="deployment"} 2"#,
            #"workqueue_queue_duration_seconds_bucket{name="deployment",le="1.0"} 0"#,
            #"workqueue_queue_duration_seconds_bucket{name="deployment",le="10.0"} 2"#,
            #"workqueue_work_duration_seconds_sum{name="deployment"} 4.0"#,
            #"workqueue_unfinished_work_seconds{name="deployment"} 2.5"#,
            "# TYPE workqueue_work_duration_seconds histogram",
        ] {
            #expect(text.contains(line + "\n"), "missing: \(line)")
        }
    }
}
