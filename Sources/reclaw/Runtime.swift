import ArgumentParser
import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawGit
import ReclawProviderAWS
import ReclawSignatures
import ReclawSource
import ReclawSpec
import ReclawState

/// Options shared by the commands that read a source and act on AWS.
struct SourceOptions: ParsableArguments {
    @Argument(help: "A local directory or a git URL (file://, git://, http(s)://, ssh://).")
    var source: String = "."

    @Option(help: "The branch, tag or commit of a git source.")
    var ref: String = "main"

    @Option(help: "The directory of the source that holds the specs.")
    var path: String = "."

    @Option(name: .customLong("deployment"), help: "Only this deployment (repeatable).")
    var deployments: [String] = []

    @OptionGroup var signatures: SignatureOptions

    /// A SOURCE that cannot be a source is a usage error, before anything is read or written.
    func validate() throws {
        do { _ = try SourceLocation.checked(source) } catch { throw ValidationError("SOURCE \(error)") }
        try signatures.validate(source: source)
    }
}

/// Where reclaw keeps its state and audit log, how many steps it runs at once, how long a git
/// fetch may take, and what specs may ask for.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "The state directory (default: $RECLAW_STATE_DIR, $XDG_STATE_HOME/reclaw or ~/.local/state/reclaw).")
    var stateDir: String?

    @Option(help: "The audit log (default: STATE-DIR/audit.log). plan, drift and posture record what they find in it only when it is given; audit correlate only reads it.")
    var auditLog: String?

    @Option(help: "How many AWS steps, and per-resource reads, run at once.")
    var concurrency: Int = 8

    @Option(help: "Longest a git fetch may take, connecting included (30s, 2m); then it is stopped and reported.")
    var fetchTimeout: String = "2m"

    @Option(help: "Longest a git fetch waits for the remote to accept a connection.")
    var fetchConnectTimeout: String = "20s"

    @OptionGroup var specPolicy: SpecPolicyOptions

    func validate() throws {
        for (name, value) in [("--fetch-timeout", fetchTimeout), ("--fetch-connect-timeout", fetchConnectTimeout)] {
            guard let d = DurationText.parse(value), d > .zero else { throw ValidationError("\(name) takes a duration such as 30s, 2m or 90s") }
        }
    }

    /// The fetch's bounds; the connect timeout never exceeds the whole.
    var fetchLimits: GitFetchLimits {
        let total = DurationText.parse(fetchTimeout) ?? .seconds(120)
        let connect = DurationText.parse(fetchConnectTimeout) ?? .seconds(20)
        return GitFetchLimits(connectTimeout: min(connect, total), timeout: total)
    }
}

/// The operator's limits on what specs may ask for (`SpecPolicy`).
struct SpecPolicyOptions: ParsableArguments {
    static let environmentVariable = "RECLAW_ALLOWED_MANAGED_POLICIES"

    @Option(name: .customLong("allowed-managed-policy"),
            help: ArgumentHelp("A managed policy specs may attach to the instance role (repeatable). Default: $RECLAW_ALLOWED_MANAGED_POLICIES (comma-separated), else AmazonSSMManagedInstanceCore and CloudWatchAgentServerPolicy. Any other is a validation error.",
                               valueName: "name-or-arn"))
    var allowedManagedPolicies: [String] = []

    func validate() throws {
        for item in try allowed() where !SpecPolicy.isManagedPolicyReference(item) {
            throw ValidationError("--allowed-managed-policy \(SafeText.quoted(item)) is neither a managed policy name nor a policy ARN")
        }
    }

    /// The allowed list: the options, else the environment, else the seed's two.
    func allowed(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        if !allowedManagedPolicies.isEmpty { return allowedManagedPolicies }
        if let text = environment[Self.environmentVariable], !text.trimmingCharacters(in: .whitespaces).isEmpty {
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if items.contains(where: \.isEmpty) { throw ValidationError("\(Self.environmentVariable) has an empty item: \(SafeText.quoted(text))") }
            return items
        }
        return SpecDefaults.managedPolicies
    }

    var policy: SpecPolicy {
        SpecPolicy(allowedManagedPolicies: (try? allowed()) ?? SpecDefaults.managedPolicies)
    }
}

/// Whether a command writes the audit log, the record of every change: a command that changes AWS
/// always does; a read-only one only when the user names a log with `--audit-log`.
enum AuditWrites {
    case always
    case whenAsked
    /// `audit correlate`, whose `--audit-log` names the log to read.
    case never
}

/// Everything a command needs to talk to AWS and keep records.
struct Runtime {
    let logger: Logger
    let environment: AWSEnvironment
    let client: AWSClient
    let state: StateStore
    let auditor: Auditor
    /// The audit log at its configured path, for reading (reclaw's own request ids, correlate).
    let auditLog: AuditLog
    /// Whether this command's events go to the audit log (see `AuditWrites`).
    let auditing: Bool
    let reconciler: Reconciler
    let policy: SpecPolicy
    let fetchLimits: GitFetchLimits

    /// `settings` come from the commands that take `OperatorOptions` (a plan that would create a
    /// role without a boundary warns, once per deployment);
    /// `changes` tracks state writes for a lease table; `replica` is stamped on audit events.
    init(global: GlobalOptions, options: RuntimeOptions, settings: ProviderSettings? = nil, changes: StateChanges? = nil, replica: String? = nil,
         audit: AuditWrites = .always) {
        global.bootstrap()
        policy = options.specPolicy.policy
        fetchLimits = options.fetchLimits
        logger = global.logger()
        environment = AWSEnvironment()
        state = StateStore(directory: options.stateDir ?? StateStore.defaultDirectory(), changes: changes)
        let auditPath = options.auditLog ?? state.directory + "/audit.log"
        auditLog = AuditLog(path: auditPath)
        auditing = audit == .always || (audit == .whenAsked && options.auditLog != nil)
        auditor = Auditor(log: auditing ? auditLog : nil, logger: Logger(label: "reclaw.audit"), replica: replica)
        let environment = environment
        let logger = logger
        let auditor = auditor
        let chain = CredentialChain(environment: environment) { credentials in
            AWSClient(credentials: credentials, environment: environment, logger: logger, observer: auditor)
        }
        client = AWSClient(credentials: chain, environment: environment, logger: Logger(label: "reclaw.aws"), observer: auditor)
        // A command plans all its deployments in one call, which already shares each region's
        // observation among them: nothing else can join, so it does not wait for others.
        reconciler = Reconciler(client: client, state: state, auditor: auditor, logger: logger, concurrency: options.concurrency,
                                settings: settings ?? ProviderSettings(), observationWindow: .zero)
    }

    /// Takes the state directory for this process; fails when another reclaw process holds it.
    func lockState(purpose: String) throws -> StateLock {
        do { return try StateLock.acquire(directory: state.directory, purpose: purpose) } catch { throw CLIError("\(error)") }
    }

    func source(_ options: SourceOptions) throws -> SpecSource {
        let location = SourceLocation(options.source)
        var credentials: GitCredentials?
        var trust = SSHTrust()
        var signatures: SignaturePolicy?
        if case .git(let url) = location {
            signatures = try options.signatures.policy()
            do { credentials = try GitCredentialSettings.credentials(for: url) } catch { throw CLIError(error.message) }
            do { trust = try SSHTrust.fromEnvironment() } catch { throw CLIError(error.message) }
        }
        return SpecSource(location: location, ref: options.ref, path: options.path, cacheDirectory: state.directory,
                          credentials: credentials, sshTrust: trust, policy: policy, fetchLimits: fetchLimits, signatures: signatures)
    }

    /// Reads the source and its specs; invalid specs are printed, the valid ones returned.
    func targets(_ options: SourceOptions) async throws -> (targets: [ReconcileTarget], load: SpecLoadResult, revision: String) {
        let snapshot: SourceSnapshot
        let source = try source(options)
        do { snapshot = try await source.snapshot() } catch {
            throw CLIError(error.message)
        }
        if let note = snapshot.verificationNote { logger.notice("\(note)") }
        if let signer = snapshot.signer { logger.info("the revision is signed", metadata: ["revision": "\(snapshot.revision)", "signer": "\(signer)"]) }
        let load = source.load(snapshot)
        for d in load.diagnostics { printError(d.description) }
        for s in load.skipped { logger.debug("skipped a document", metadata: ["file": "\(s.file)", "line": "\(s.line)", "reason": "\(s.reason)"]) }
        var deployments = load.deployments
        if !options.deployments.isEmpty {
            let wanted = Set(options.deployments)
            let known = Set(deployments.map(\.spec.name)).union(load.invalidDeployments.keys)
            let unreadable = load.unreadableFiles.isEmpty ? "" : " (\(plural(load.unreadableFiles.count, "spec file")) cannot be read and may hold it)"
            for missing in wanted.subtracting(known).sorted() { printError("error: no deployment named \(SafeText.quoted(missing)) in \(options.source)\(unreadable)") }
            if !wanted.isSubset(of: known) { throw ExitCode(1) }
            deployments = deployments.filter { wanted.contains($0.spec.name) }
        }
        return (deployments.map { ReconcileTarget(spec: $0.spec, revision: snapshot.revision, location: $0.location) }, load, snapshot.revision)
    }
}

/// An error the user can act on, printed without a stack of types.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Asks on the terminal; refuses when standard input is not one.
func confirm(_ question: String) throws -> Bool {
    guard isatty(0) == 1 else {
        throw CLIError("refusing to apply: standard input is not a terminal; pass --auto-approve to apply without asking")
    }
    print("\n\(question) Only 'yes' will be accepted: ", terminator: "")
    fflush(nil)
    return readLine()?.trimmingCharacters(in: .whitespaces) == "yes"
}

/// One line per step outcome.
func describe(_ outcome: StepOutcome, deployment: String) -> String {
    let step = outcome.step
    let id = outcome.resourceID.map { " (\($0))" } ?? ""
    switch outcome.status {
    case .succeeded: return "\(deployment): \(step.operation.rawValue) \(step.key)\(id): done"
    case let .failed(message, code, requestID):
        var s = "\(deployment): \(step.operation.rawValue) \(step.key)\(id): FAILED: \(message)"
        if let code, !message.contains(code) { s += " [\(code)]" }
        if let requestID, !message.contains(requestID) { s += " (request id \(requestID))" }
        return s
    case .skipped(let why): return "\(deployment): \(step.operation.rawValue) \(step.key): skipped, \(why)"
    case .blocked(let why): return "\(deployment): \(step.key): blocked, \(why)"
    case .notStarted: return "\(deployment): \(step.operation.rawValue) \(step.key): not started (shutting down)"
    }
}
