import Foundation
import ReclawDaemon
import ReclawOperations
import ReclawTestSupport
import Testing

/// The Prometheus series, named as Flux and controller-runtime users expect, checked by
/// Prometheus' own promtool.
@Suite struct MetricsTests {
    static let promtool: String? = ["/usr/local/bin/promtool", "/usr/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Every method of the API, once or more.
    static func populated() -> Metrics {
        let m = Metrics()
        m.reconciled(deployment: "alpha", kind: "apply", result: .success, seconds: 0.3)
        m.reconciled(deployment: "alpha", kind: "apply", result: .failure, seconds: 42)
        m.reconciled(deployment: "alpha", kind: "drift", result: .requeue, seconds: 1.5)
        m.reconciled(deployment: "beta", kind: "prune", result: .skipped, seconds: 0)
        m.condition(deployment: "alpha", type: "Ready", status: "True")
        m.condition(deployment: "alpha", type: "Stalled", status: "False")
        m.succeeded(deployment: "alpha", at: Date(timeIntervalSince1970: 1_800_000_000))
        m.drifted(deployment: "alpha", resources: 2)
        m.sourceFetched(succeeded: true, at: Date(timeIntervalSince1970: 1_800_000_100))
        m.sourceFetched(succeeded: false, at: Date(timeIntervalSince1970: 1_800_000_200))
        m.queue(depth: 3, running: 2, longestRunningSeconds: 12.5)
        m.queueAdded()
        m.queueAdded()
        m.queueRetried()
        for outcome in ["delivered", "refused", "failed", "dropped"] { m.alertDelivery(outcome: outcome) }
        m.leases(held: 2)
        m.leaseAcquired()
        m.leaseLost()
        m.replicaActive("replica-a", true)
        m.replicaActive("replica-b", false)
        m.unowned(["gamma", "delta"])
        m.unowned(["gamma"])
        m.eventReceived()
        m.eventMatched()
        m.eventIgnored(reason: "not-tagged")
        m.eventLag(seconds: 240)
        m.httpRefused(reason: "replayed")
        m.pushAccepted()
        return m
    }

    @Test func theSeriesAreNamedAsFluxAndControllerRuntimeUsersExpect() throws {
        let text = Self.populated().render()
        for line in [
            #"reclaw_reconcile_total{deployment="alpha",kind="apply",result="success"} 1"#,
            #"reclaw_reconcile_total{deployment="alpha",kind="apply",result="failure"} 1"#,
            #"reclaw_reconcile_total{deployment="beta",kind="prune",result="skipped"} 1"#,
            #"reclaw_reconcile_duration_seconds_bucket{deployment="alpha",kind="apply",le="0.5"} 1"#,
            #"reclaw_reconcile_duration_seconds_bucket{deployment="alpha",kind="apply",le="+Inf"} 2"#,
            #"reclaw_reconcile_duration_seconds_count{deployment="alpha",kind="apply"} 2"#,
            #"reclaw_deployment_condition{deployment="alpha",type="Ready",status="True"} 1.0"#,
            #"reclaw_deployment_condition{deployment="alpha",type="Ready",status="False"} 0.0"#,
            #"reclaw_deployment_condition{deployment="alpha",type="Ready",status="Unknown"} 0.0"#,
            #"reclaw_deployment_condition{deployment="alpha",type="Stalled",status="False"} 1.0"#,
            #"reclaw_last_successful_reconcile_timestamp_seconds{deployment="alpha"} 1800000000.0"#,
            #"reclaw_drifted_resources{deployment="alpha"} 2.0"#,
            "reclaw_source_failures_total 1",
            #"reclaw_source_fetches_total{result="success"} 1"#,
            #"reclaw_source_fetches_total{result="failure"} 1"#,
            "reclaw_source_last_fetch_timestamp_seconds 1800000100.0",
            "reclaw_workqueue_depth 3.0",
            "reclaw_workqueue_running 2.0",
            "reclaw_workqueue_longest_running_processor_seconds 12.5",
            "reclaw_workqueue_adds_total 2",
            "reclaw_workqueue_retries_total 1",
            #"reclaw_alert_deliveries_total{outcome="dropped"} 1"#,
            "reclaw_leases_held 2.0",
            "reclaw_lease_acquisitions_total 1",
            "reclaw_lease_losses_total 1",
            #"reclaw_replica_active{replica="replica-b"} 0.0"#,
            #"reclaw_deployment_unowned{deployment="gamma"} 1.0"#,
            #"reclaw_deployment_unowned{deployment="delta"} 0.0"#,
            "reclaw_events_received_total 1",
            "reclaw_events_matched_total 1",
            #"reclaw_events_ignored_total{reason="not-tagged"} 1"#,
            #"reclaw_event_lag_seconds_bucket{le="300.0"} 1"#,
            #"reclaw_http_refusals_total{reason="replayed"} 1"#,
            "reclaw_push_notifications_accepted_total 1",
            "# TYPE reclaw_reconcile_duration_seconds histogram",
            "# TYPE reclaw_deployment_condition gauge",
        ] {
            #expect(text.contains(line + "\n"), "missing: \(line)")
        }
        #expect(text.contains(#"reclaw_build_info{version=""#) && text.contains(#"swift_version="6."#))
    }

    @Test func aNewConditionStatusMovesTheOneToItAndUnknownTextCountsAsUnknown() {
        let m = Metrics()
        m.condition(deployment: "alpha", type: "Ready", status: "True")
        m.condition(deployment: "alpha", type: "Ready", status: "False")
        var text = m.render()
        #expect(text.contains(#"reclaw_deployment_condition{deployment="alpha",type="Ready",status="True"} 0.0"#))
        #expect(text.contains(#"reclaw_deployment_condition{deployment="alpha",type="Ready",status="False"} 1.0"#))
        m.condition(deployment: "alpha", type: "Ready", status: "maybe")
        text = m.render()
        #expect(text.contains(#"reclaw_deployment_condition{deployment="alpha",type="Ready",status="Unknown"} 1.0"#))
        #expect(!text.contains("maybe"))
    }

    @Test func forgettingADeploymentRemovesEachOfItsSeriesAndMemoryStaysBounded() {
        let m = Self.populated()
        m.forget(deployment: "alpha")
        let text = m.render()
        #expect(!text.contains(#"deployment="alpha""#))
        #expect(text.contains(#"reclaw_reconcile_total{deployment="beta",kind="prune",result="skipped"} 1"#))
        // The process_* series read the process now: their values vary between renders.
        func registered(_ text: String) -> Int { text.split(separator: "\n").filter { !$0.hasPrefix("process_") }.joined().utf8.count }
        let baseline = registered(text)
        // Months of deployments coming and going.
        for i in 0..<500 {
            let name = "d\(i)"
            m.reconciled(deployment: name, kind: "apply", result: .success, seconds: 1)
            m.condition(deployment: name, type: "Ready", status: "True")
            m.succeeded(deployment: name, at: Date())
            m.drifted(deployment: name, resources: 0)
            m.forget(deployment: name)
        }
        #expect(registered(m.render()) == baseline)
    }

    @Test func eachInstanceHasItsOwnRegistry() {
        let a = Metrics()
        let b = Metrics()
        a.queueAdded()
        #expect(a.render().contains("reclaw_workqueue_adds_total 1\n"))
        #expect(b.render().contains("reclaw_workqueue_adds_total 0\n"))
    }

    @Test(.enabled(if: MetricsTests.promtool != nil || ProcessInfo.processInfo.environment["CI"] != nil,
                   "promtool is not installed (scripts/setup.sh installs it; CI requires it)"))
    func promtoolFindsNothingToFixInTheExposition() async throws {
        let tool = try #require(Self.promtool, "promtool is missing: run scripts/setup.sh")
        let result = try await Command.run([tool, "check", "metrics"], stdin: Self.populated().render())
        #expect(result.status == 0, "promtool: \(result.stdout)\(result.stderr)")
    }
}
