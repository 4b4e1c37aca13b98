import Prometheus

extension Metrics {
    /// Every family: its name and help text (a family must always be registered with the same help;
    /// computed, since the descriptor type is not Sendable).
    enum Family {
        static func family(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }

        static var reconcileTotal: MetricNameDescriptor { family("reclaw_reconcile_total", "Reconciles by deployment, kind (apply, drift, attribution, prune) and result.") }
        static var reconcileDuration: MetricNameDescriptor { family("reclaw_reconcile_duration_seconds", "Time one reconcile of one deployment took, by kind.") }
        static var condition: MetricNameDescriptor { family("reclaw_deployment_condition", "The status of each condition (Ready, Reconciling, Stalled, and SourceVerified when signatures are verified) per deployment: 1 for the current status.") }
        static var lastSuccess: MetricNameDescriptor { family("reclaw_last_successful_reconcile_timestamp_seconds", "When each deployment last reconciled successfully (Unix seconds).") }
        static var drifted: MetricNameDescriptor { family("reclaw_drifted_resources", "Attributes found drifted at the last drift check, per deployment.") }
        static var sourceFailures: MetricNameDescriptor { family("reclaw_source_failures_total", "Fetches of the source that failed.") }
        static var sourceFetches: MetricNameDescriptor { family("reclaw_source_fetches_total", "Fetches of the source by result.") }
        static var sourceRejections: MetricNameDescriptor { family("reclaw_source_rejections_total", "Revisions refused for their signature, by reason (unsigned, untrusted_signer, bad_signature, key_not_valid).") }
        static var sourceLastFetch: MetricNameDescriptor { family("reclaw_source_last_fetch_timestamp_seconds", "When the source was last fetched successfully (Unix seconds).") }
        static var queueDepth: MetricNameDescriptor { family("reclaw_workqueue_depth", "Deployments waiting in the work queue.") }
        static var queueAdds: MetricNameDescriptor { family("reclaw_workqueue_adds_total", "Deployments added to the work queue.") }
        static var queueRetries: MetricNameDescriptor { family("reclaw_workqueue_retries_total", "Deployments put back on the work queue to be retried.") }
        static var queueLongest: MetricNameDescriptor { family("reclaw_workqueue_longest_running_processor_seconds", "How long the longest-running reconcile has been running.") }
        static var queueRunning: MetricNameDescriptor { family("reclaw_workqueue_running", "Reconciles running now.") }
        static var alertDeliveries: MetricNameDescriptor { family("reclaw_alert_deliveries_total", "Alert deliveries by outcome (delivered, refused, failed, dropped).") }
        static var awsCalls: MetricNameDescriptor { family("reclaw_aws_calls_total", "AWS API calls by service, operation and outcome (ok or the error code).") }
        static var buildInfo: MetricNameDescriptor { family("reclaw_build_info", "The reclaw version and the Swift version it was built with.") }
        static var leasesHeld: MetricNameDescriptor { family("reclaw_leases_held", "Deployment leases this replica holds.") }
        static var leaseAcquisitions: MetricNameDescriptor { family("reclaw_lease_acquisitions_total", "Deployment leases acquired.") }
        static var leaseLosses: MetricNameDescriptor { family("reclaw_lease_losses_total", "Deployment leases lost before they were released.") }
        static var replicaActive: MetricNameDescriptor { family("reclaw_replica_active", "Whether each known replica is active (1) or not (0).") }
        static var unowned: MetricNameDescriptor { family("reclaw_deployment_unowned", "Deployments no live replica owns, as this replica sees them: 1 while unowned, 0 once owned again.") }
        static var eventsReceived: MetricNameDescriptor { family("reclaw_events_received_total", "CloudTrail events received from the queue.") }
        static var eventsMatched: MetricNameDescriptor { family("reclaw_events_matched_total", "CloudTrail events that matched a deployment.") }
        static var eventsIgnored: MetricNameDescriptor { family("reclaw_events_ignored_total", "CloudTrail events ignored, by reason.") }
        static var eventLag: MetricNameDescriptor { family("reclaw_event_lag_seconds", "Time from a CloudTrail event to its arrival at reclaw.") }
        static var httpRefusals: MetricNameDescriptor { family("reclaw_http_refusals_total", "Requests the operations endpoint refused, by reason.") }
        static var readsPaused: MetricNameDescriptor { family("reclaw_http_reads_paused_total", "Times the operations endpoint stopped reading a connection whose client left its answers unread.") }
        static var unanswered: MetricNameDescriptor { family("reclaw_http_unanswered_requests", "Requests the operations endpoint has read whose answers are not yet handed to the network.") }
        static var policy: MetricNameDescriptor { family("reclaw_policy_evaluations_total", "Plans the policy command judged, by deployment and result (allowed, denied, timed_out, failed_to_start).") }
        static var pushes: MetricNameDescriptor { family("reclaw_push_notifications_accepted_total", "Push notifications accepted (each triggers a fetch).") }
    }
}
