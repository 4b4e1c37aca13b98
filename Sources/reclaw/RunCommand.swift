import ArgumentParser
import Foundation
import Logging
import ReclawAWS
import ReclawAlerts
import ReclawAudit
import ReclawTime
import ReclawController
import ReclawDaemon
import ReclawEvents
import ReclawGit
import ReclawLease
import ReclawOperations
import ReclawProviderAWS
import ReclawSource
import ReclawState
import ServiceLifecycle

/// `reclaw run`: the GitOps daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: poll the source, apply new revisions, check for drift, alert, keep the audit trail.")

    @Option(help: "The git URL (file://, git://, http(s)://, ssh://) or local directory of the specs.") var source: String
    @Option(help: "The branch or tag to follow.") var ref: String = "main"
    @Option(help: "The directory of the repository that holds the specs.") var path: String = "."
    @Option(help: "How often to fetch (±10% jitter): 30s, 1m, 5m.") var interval: String = "1m"
    @Option(help: "How often to compare every deployment with its last applied revision (default 5m; 1h with --events-queue).")
    var driftInterval: String?
    @Option(help: "Also check a deployment for drift as soon as CloudTrail's event of a change to it arrives on this SQS queue (see `reclaw events setup`).")
    var eventsQueue: String?
    @Option(name: .customLong("alert-webhook"), help: "Send drift and failure alerts here (repeatable; Slack and Discord URLs get their own format; slack+https://, discord+https:// or generic+https:// chooses it).")
    var alertWebhooks: [String] = []
    @Option(name: .customLong("alert-webhook-file"),
            help: "A file of alert webhook URLs, one per line, so they stay out of the command line (repeatable; # starts a comment).")
    var alertWebhookFiles: [String] = []
    @Option(name: .customLong("alert-webhook-secret-file"),
            help: "A file holding the secret that signs what generic alert webhooks receive (webhook-signature, X-Reclaw-Signature-256), or set RECLAW_ALERT_WEBHOOK_SECRET; a whsec_ secret is Standard Webhooks' base64 key.")
    var alertWebhookSecretFile: String?
    @Flag(help: "Destroy deployments whose spec left the repository (never all of them at once).") var prune = false
    @Flag(help: "One pass (source, then drift), then exit: 0 no changes, 2 changes or drift, 1 errors.") var once = false
    @Option(help: "Serve /healthz, /metrics and POST /hooks/git on HOST:PORT, localhost:PORT, [IPV6]:PORT or :PORT (every interface).")
    var metricsAddress: String?
    @Option(help: "A file holding the push notification secret (or set RECLAW_HOOK_SECRET).") var hookSecretFile: String?
    @Option(help: "Deployments reconciled at once.") var deploymentConcurrency: Int = 4
    @OptionGroup var replicaOptions: ReplicaOptions
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var signatures: SignatureOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        try signatures.validate(source: source)
        for (name, value) in [("--interval", interval), ("--drift-interval", driftEvery), ("--lease-duration", replicaOptions.leaseDuration)] {
            guard let d = DurationText.parse(value), d > .zero else { throw ValidationError("\(name) takes a duration such as 30s, 1m or 5m") }
        }
        if let d = DurationText.parse(replicaOptions.leaseDuration), d < LeaseCoordinator.minimumDuration || d > LeaseCoordinator.maximumDuration {
            throw ValidationError("--lease-duration must be between \(LeaseCoordinator.minimumDuration.components.seconds)s and "
                + "\(LeaseCoordinator.maximumDuration.components.seconds)s (5m): a replica that dies leaves its deployments unmanaged this long")
        }
        if let metricsAddress {
            do { _ = try ListenAddress(parsing: metricsAddress) } catch { throw ValidationError("\(error)") }
        }
        for url in alertWebhooks { try Self.checkWebhook(url, at: "--alert-webhook") }
        // Before the state directory is touched: a mistyped source is a usage error, not a daemon
        // that waits forever for a directory that is not there.
        do { _ = try SourceLocation.checked(source) } catch { throw ValidationError("--source \(error)") }
    }

    func run() async throws {
        let arenaLimit = FreeMemory.limitArenas()
        let replica = replicaOptions.leaseTable == nil ? nil : replicaOptions.replica
        let changes = replica == nil ? nil : StateChanges()
        let runtime = Runtime(global: global, options: runtimeOptions, settings: operatorOptions.providerSettings, changes: changes, replica: replica)
        let logger = runtime.logger
        // One daemon per state directory: a second one on it refuses to start.
        let lock = try runtime.lockState(purpose: "reclaw run")
        let metrics = Metrics()
        let webhooks = try alertWebhooks + alertWebhookFiles.flatMap(Self.webhookURLs(inFile:))
        let signer = try alertSigner()
        if signer != nil && !webhooks.contains(where: { AlertWebhook(url: $0, index: 0).kind == .generic }) {
            logger.warning("an alert webhook secret is set, but no generic alert webhook receives signed alerts (Slack and Discord are not signed)")
        }
        let notifier = webhooks.isEmpty ? nil : AlertNotifier(urls: webhooks, logger: Logger(label: "reclaw.alerts"), metrics: metrics, signer: signer)
        // The one clock of the process: given to every service, and bound for every task they start.
        let clock = SystemClock.shared
        let leases = try await replicaOptions.leaseManager(runtime: runtime, changes: changes, metrics: metrics, clock: clock, prune: prune)
        // Every AWS call is counted by the metrics as well as audited, and fenced by the lease.
        let created = eventsQueue == nil ? nil : CreatedResources()
        let observers: [any AWSCallObserver] = [runtime.auditor, metrics] + (leases.map { [$0] } ?? []) + (created.map { [$0] } ?? [])
        let client = AWSClient(credentials: runtime.client.credentials, environment: runtime.environment, logger: Logger(label: "reclaw.aws"),
                               observer: FanOutObserver(observers), replica: replica)
        // The daemon reads slow attributes within a budget per observation; one-shot commands read every due one.
        var settings = operatorOptions.providerSettings
        settings.slowReadsPerObservation = ProviderSettings.daemonSlowReadsPerObservation
        let reconciler = Reconciler(client: client, state: runtime.state, auditor: runtime.auditor, logger: logger,
                                    concurrency: runtimeOptions.concurrency, settings: settings)
        let daemon = ReconcileDaemon(
            source: try runtime.source(try SourceOptions.parse([source, "--ref", ref, "--path", path] + signatures.arguments)), reconciler: reconciler,
            auditor: runtime.auditor, auditLog: runtime.auditLog, notifier: notifier, metrics: metrics,
            options: DaemonOptions(interval: DurationText.parse(interval)!, driftInterval: DurationText.parse(driftEvery)!, prune: prune,
                                   concurrency: deploymentConcurrency,
                                   policy: policyOptions.gate(sleep: { d in try await clock.sleep(until: clock.now() + d) })),
            clock: clock, leases: leases, logger: logger)
        // The audit log is mandatory: a daemon that cannot record what it does does not start.
        do { try runtime.auditor.ensureWritable() } catch {
            throw CLIError("the audit log cannot be written: \(error)")
        }
        logger.info("reclaw \(ReclawVersion.string) starting", metadata: [
            "source": "\(SourceLocation(source))", "ref": "\(ref)", "path": "\(path)", "interval": "\(interval)",
            "drift-interval": "\(driftEvery)", "events-queue": "\(eventsQueue ?? "none")", "state-dir": "\(runtime.state.directory)", "alert-webhooks": "\(webhooks.count)",
            "deployment-concurrency": "\(deploymentConcurrency)", "replica": "\(replica ?? "single")",
            "malloc-arenas": "\(arenaLimit)", "policy-command": "\(policyOptions.command == nil ? "none" : "set")",
        ])
        defer { withExtendedLifetime(lock) {} }
        if once {
            let code = await Clocks.$current.withValue(clock) { await runOnce(daemon, notifier: notifier, leases: leases) }
            if code != 0 { throw ExitCode(code) }
            return
        }
        // Shut down in reverse order: the daemon finishes its work, then the leases are released.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = leases.map { [.init(service: $0)] } ?? []
        // The notifier before the daemon: it is shut down after it, so the daemon's last alerts go out.
        if let notifier { services.append(.init(service: notifier)) }
        services.append(.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        if let eventsQueue {
            // Reading the queue changes nothing in AWS: its calls are counted by the metrics, not audited.
            let events = AWSClient(credentials: runtime.client.credentials, environment: runtime.environment, logger: Logger(label: "reclaw.events"),
                                   observer: metrics)
            services.append(.init(service: EventListener(daemon: daemon, client: events, settings: .init(queue: eventsQueue), created: created,
                                                         clock: clock, logger: Logger(label: "reclaw.events"))))
        }
        if let metricsAddress {
            let secret = try hookSecret()
            // Bound here: a taken address stops reclaw at startup with an error naming it (exit 1).
            let server = try await OperationsServer(
                address: metricsAddress, metrics: metrics, secret: secret, logger: logger,
                health: { daemon.health() }, onPush: { daemon.requestFetch() })
            services.append(.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await Clocks.$current.withValue(clock) { try await group.run() }
        logger.info("reclaw stopped")
    }

    /// The drift interval: the option's, else 5m, or 1h when events wake the checks.
    var driftEvery: String { driftInterval ?? (eventsQueue == nil ? "5m" : "1h") }

    /// One source pass and one drift pass; alerts are delivered before returning. As a replica, it
    /// first takes the leases it can (its share among the live replicas, all of them when alone),
    /// works on those deployments only, and releases them before it exits. It takes them a join
    /// interval after announcing itself, so replicas started together share the deployments.
    func runOnce(_ daemon: ReconcileDaemon, notifier: AlertNotifier?, leases: LeaseManager?) async -> Int32 {
        await withTaskGroup(of: Int32.self) { group in
            if let notifier { group.addTask { try? await notifier.run(); return 0 } }
            group.addTask {
                if let leases {
                    _ = await daemon.sourcePass()  // reads the deployments; owns none yet
                    await leases.join()
                }
                let report = await daemon.sourcePass()
                let drift = await daemon.driftPass()
                if let leases {
                    leases.beginShutdown()
                    await leases.round()
                }
                notifier?.finish()
                if report.failed || !daemon.stalledDeployments.isEmpty { return 1 }
                return report.exitCode == 2 || !drift.isEmpty ? 2 : 0
            }
            var code: Int32 = 0
            for await c in group { code = max(code, c) }
            return code
        }
    }

    /// The URLs of a webhook file: one per line, blank lines and `#` comments skipped. The error
    /// names the file and line, never a URL, which holds a secret.
    static func webhookURLs(inFile file: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("cannot read the alert webhook file \(file)") }
        var urls: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            try checkWebhook(line, at: "\(file):\(number + 1)")
            let plain = (try? AlertWebhook.format(of: line))?.url ?? line
            guard let url = URLComponents(string: plain), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false else {
                throw CLIError("\(file):\(number + 1): not an http(s) URL")
            }
            urls.append(line)
        }
        return urls
    }

    /// A webhook whose scheme names a format reclaw does not know is a usage error (exit 64).
    static func checkWebhook(_ url: String, at place: String) throws {
        do { _ = try AlertWebhook.format(of: url) } catch { throw ValidationError("\(place): \(error)") }
    }

    /// The signer of generic alert webhooks' deliveries, from the secret file or the environment.
    func alertSigner() throws -> WebhookSigner? {
        let secret: String
        if let file = alertWebhookSecretFile {
            do { secret = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw CLIError("cannot read the alert webhook secret file \(file): \(error.localizedDescription)")
            }
        } else if let text = ProcessInfo.processInfo.environment["RECLAW_ALERT_WEBHOOK_SECRET"], !text.isEmpty {
            secret = text
        } else {
            return nil
        }
        do { return try WebhookSigner(secret: secret) } catch { throw CLIError("\(error)\(alertWebhookSecretFile.map { " (\($0))" } ?? " (RECLAW_ALERT_WEBHOOK_SECRET)")") }
    }

    func hookSecret() throws -> String? {
        if let file = hookSecretFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("cannot read the hook secret file \(file)") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ProcessInfo.processInfo.environment["RECLAW_HOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
