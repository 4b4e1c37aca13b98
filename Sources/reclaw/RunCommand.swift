import ArgumentParser
import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawDaemon
import ReclawGit
import ReclawProviderAWS
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
    @Option(help: "How often to compare every deployment with its last applied revision.") var driftInterval: String = "5m"
    @Option(name: .customLong("alert-webhook"), help: "Send drift and failure alerts here (repeatable; Slack and Discord URLs get their own format).")
    var alertWebhooks: [String] = []
    @Option(name: .customLong("alert-webhook-file"),
            help: "A file of alert webhook URLs, one per line, so they stay out of the command line (repeatable; # starts a comment).")
    var alertWebhookFiles: [String] = []
    @Flag(help: "Destroy deployments whose spec left the repository (never all of them at once).") var prune = false
    @Flag(help: "One pass (source, then drift), then exit: 0 no changes, 2 changes or drift, 1 errors.") var once = false
    @Option(help: "Serve /healthz, /metrics and POST /hooks/git on HOST:PORT, localhost:PORT, [IPV6]:PORT or :PORT (every interface).")
    var metricsAddress: String?
    @Option(help: "A file holding the push notification secret (or set RECLAW_HOOK_SECRET).") var hookSecretFile: String?
    @Option(help: "Deployments reconciled at once.") var deploymentConcurrency: Int = 4
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        for (name, value) in [("--interval", interval), ("--drift-interval", driftInterval)] {
            guard let d = DurationText.parse(value), d > .zero else { throw ValidationError("\(name) takes a duration such as 30s, 1m or 5m") }
        }
        if let metricsAddress {
            do { _ = try ListenAddress(parsing: metricsAddress) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        let runtime = Runtime(global: global, options: runtimeOptions)
        let logger = runtime.logger
        let metrics = Metrics()
        let webhooks = try alertWebhooks + alertWebhookFiles.flatMap(Self.webhookURLs(inFile:))
        let notifier = webhooks.isEmpty ? nil : AlertNotifier(urls: webhooks, logger: Logger(label: "reclaw.alerts"), metrics: metrics)
        // Every AWS call is counted by the metrics as well as audited.
        let client = AWSClient(credentials: runtime.client.credentials, environment: runtime.environment, logger: Logger(label: "reclaw.aws"),
                               observer: FanOutObserver([runtime.auditor, metrics]))
        let reconciler = Reconciler(client: client, state: runtime.state, auditor: runtime.auditor, logger: logger,
                                    concurrency: runtimeOptions.concurrency)
        let daemon = ReconcileDaemon(
            source: try runtime.source(try SourceOptions.parse([source, "--ref", ref, "--path", path])), reconciler: reconciler,
            auditor: runtime.auditor, auditLog: runtime.auditLog, notifier: notifier, metrics: metrics,
            options: DaemonOptions(interval: DurationText.parse(interval)!, driftInterval: DurationText.parse(driftInterval)!, prune: prune,
                                   concurrency: deploymentConcurrency),
            logger: logger)
        logger.info("reclaw \(ReclawVersion.string) starting", metadata: [
            "source": "\(SourceLocation(source))", "ref": "\(ref)", "path": "\(path)", "interval": "\(interval)",
            "drift-interval": "\(driftInterval)", "state-dir": "\(runtime.state.directory)", "alert-webhooks": "\(webhooks.count)",
        ])
        if once {
            let code = await runOnce(daemon, notifier: notifier)
            if code != 0 { throw ExitCode(code) }
            return
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let notifier { services.append(.init(service: notifier)) }
        if let metricsAddress {
            let secret = try hookSecret()
            // Bound here: a taken address stops reclaw at startup with an error naming it (exit 1).
            let server = try await OperationsServer(
                address: metricsAddress, metrics: metrics, secret: secret, logger: logger,
                health: { daemon.isShuttingDown ? HealthReport(healthy: false, message: "shutting down") : HealthReport(healthy: true, message: "ok") },
                onPush: { daemon.trigger(.fetch("push")) })
            services.append(.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("reclaw stopped")
    }

    /// One source pass and one drift pass; alerts are delivered before returning.
    func runOnce(_ daemon: ReconcileDaemon, notifier: AlertNotifier?) async -> Int32 {
        await withTaskGroup(of: Int32.self) { group in
            if let notifier { group.addTask { try? await notifier.run(); return 0 } }
            group.addTask {
                let report = await daemon.sourcePass()
                let drift = await daemon.driftPass()
                notifier?.finish()
                if report.failed { return 1 }
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
            guard let url = URLComponents(string: line), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false else {
                throw CLIError("\(file):\(number + 1): not an http(s) URL")
            }
            urls.append(line)
        }
        return urls
    }

    func hookSecret() throws -> String? {
        if let file = hookSecretFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("cannot read the hook secret file \(file)") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ProcessInfo.processInfo.environment["RECLAW_HOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `reclaw status`: what reclaw knows about each deployment.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show each deployment's revisions and conditions.")

    @Flag(help: "Print the status as JSON.") var json = false
    @Option(help: "The state directory (default: $RECLAW_STATE_DIR, $XDG_STATE_HOME/reclaw or ~/.local/state/reclaw).") var stateDir: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let store = StateStore(directory: stateDir ?? StateStore.defaultDirectory())
        let statuses = try store.all()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            let rows = statuses.map { StatusRow($0) }
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        guard !statuses.isEmpty else {
            print("No deployments in \(store.directory).")
            return
        }
        for s in statuses {
            let ready = s.condition("Ready")
            print("\(s.deployment) (\(s.region ?? "?"))")
            print("  Ready: \(ready.map { "\($0.status ? "True" : "False") (\($0.reason))" } ?? "Unknown")\(ready.map { $0.message.isEmpty ? "" : ": \($0.message)" } ?? "")")
            for type in ["Reconciling", "Stalled"] {
                if let c = s.condition(type) { print("  \(type): \(c.status ? "True" : "False") (\(c.reason))\(c.message.isEmpty ? "" : ": \(c.message)")") }
            }
            print("  Last applied revision:   \(s.lastAppliedRevision ?? "none")\(s.lastAppliedAt.map { " at \(ISO8601.format($0))" } ?? "")")
            print("  Last attempted revision: \(s.lastAttemptedRevision ?? "none")\(s.lastAttemptedAt.map { " at \(ISO8601.format($0))" } ?? "")")
            if let location = s.location { print("  Spec: \(location)") }
            print("  Drift: \(s.drift.isEmpty ? "none" : s.drift.joined(separator: "; "))\(s.lastDriftCheckAt.map { " (checked \(ISO8601.format($0)))" } ?? "")")
        }
    }
}

/// One deployment's status as `reclaw status --json` prints it.
struct StatusRow: Encodable {
    var deployment: String
    var region: String?
    var lastAppliedRevision: String?
    var lastAttemptedRevision: String?
    var lastAppliedAt: Date?
    var lastAttemptedAt: Date?
    var lastDriftCheckAt: Date?
    var location: String?
    var conditions: [Condition]
    var drift: [String]

    init(_ s: DeploymentStatus) {
        deployment = s.deployment
        region = s.region
        lastAppliedRevision = s.lastAppliedRevision
        lastAttemptedRevision = s.lastAttemptedRevision
        lastAppliedAt = s.lastAppliedAt
        lastAttemptedAt = s.lastAttemptedAt
        lastDriftCheckAt = s.lastDriftCheckAt
        location = s.location
        conditions = s.conditions
        drift = s.drift
    }
}
