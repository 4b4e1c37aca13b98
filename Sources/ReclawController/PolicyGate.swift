import Foundation
import Synchronization
import ReclawTime

/// The operator's policy command (`--policy-command`, `RECLAW_POLICY_COMMAND`), run on each
/// deployment's plan before it is applied. The plan JSON goes to a file of its own in a private
/// directory (0700, the file 0600), named by `RECLAW_PLAN_JSON` and also given on standard input;
/// `RECLAW_DEPLOYMENT` and `RECLAW_REVISION` say what it is. CMD runs through `/bin/sh -c`. Exit 0
/// allows; any other exit, a time-out or a failure to start denies.
public struct PolicyGate: Sendable {
    public static let environmentVariable = "RECLAW_POLICY_COMMAND"
    public static let defaultTimeout: Duration = .seconds(60)
    /// How much of each of the command's outputs (standard output, standard error) is kept.
    public static let outputLimit = 16 * 1024

    public let command: String
    public let timeout: Duration
    let sleep: @Sendable (Duration) async throws -> Void

    /// `sleep` waits out the timeout (an injected clock in tests; cancellation ends it early).
    public init(command: String, timeout: Duration = PolicyGate.defaultTimeout,
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Clocks.sleep(for: $0) }) {
        self.command = command
        self.timeout = timeout
        self.sleep = sleep
    }

    public func evaluate(planJSON: String, deployment: String, revision: String) async -> PolicyVerdict {
        let dir: String
        do { dir = try Self.privateDirectory() } catch {
            return PolicyVerdict(result: .failedToStart, standardError: "cannot make a private directory for the plan: \(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let planPath = dir + "/plan.json", outputPath = dir + "/stdout", errorPath = dir + "/stderr"
        let attributes: [FileAttributeKey: Any] = [.posixPermissions: 0o600]
        guard FileManager.default.createFile(atPath: planPath, contents: Data(planJSON.utf8), attributes: attributes),
              FileManager.default.createFile(atPath: outputPath, contents: nil, attributes: attributes),
              FileManager.default.createFile(atPath: errorPath, contents: nil, attributes: attributes),
              let input = FileHandle(forReadingAtPath: planPath), let output = FileHandle(forWritingAtPath: outputPath),
              let errors = FileHandle(forWritingAtPath: errorPath) else {
            return PolicyVerdict(result: .failedToStart, standardError: "cannot write the plan to \(planPath)")
        }
        defer { try? input.close(); try? output.close(); try? errors.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        environment["RECLAW_PLAN_JSON"] = planPath
        environment["RECLAW_DEPLOYMENT"] = deployment
        environment["RECLAW_REVISION"] = revision
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        let exit = ExitSignal()
        process.terminationHandler = { _ in exit.fire() }
        do { try process.run() } catch {
            return PolicyVerdict(result: .failedToStart, standardError: "cannot run /bin/sh: \(error)")
        }
        let timedOut = await withTaskGroup(of: Bool.self) { group -> Bool in
            group.addTask { await exit.wait(); return false }
            group.addTask { [sleep, timeout] in
                // Cancelled (the daemon stops) or timed out: either way the command is stopped.
                try? await sleep(timeout)
                return true
            }
            let first = await group.next() ?? true
            if first { Self.stop(process) }
            group.cancelAll()
            return first
        }
        let (out, err) = (Self.read(outputPath), Self.read(errorPath))
        if timedOut { return PolicyVerdict(result: .timedOut, standardOutput: out, standardError: err) }
        let bySignal = process.terminationReason == .uncaughtSignal
        let status = process.terminationStatus
        return PolicyVerdict(result: status == 0 && !bySignal ? .allowed : .denied, status: status, killedBySignal: bySignal,
                             standardOutput: out, standardError: err)
    }

    /// Kills the shell, and its process group when it leads one.
    static func stop(_ process: Process) {
        let pid = process.processIdentifier
        guard pid > 0 else { return }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
    }

    static func privateDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/reclaw-policy-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw PolicyGateError.privateDirectory(errno: errno) }
        return String(cString: made)
    }

    static func read(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: outputLimit)) ?? nil
        return String(decoding: data ?? Data(), as: UTF8.self)
    }
}

/// Why a policy command could not be set up.
public enum PolicyGateError: Error, CustomStringConvertible {
    case privateDirectory(errno: Int32)

    public var code: String { "PolicyCommandNotStarted" }

    public var description: String {
        switch self {
        case .privateDirectory(let e):
            return "mkdtemp failed (\(String(cString: strerror(e)))): make TMPDIR point at a writable directory"
        }
    }
}

/// Fires once when the child exits; `wait` returns at once if it already has.
final class ExitSignal: Sendable {
    private let state = Mutex<(exited: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func fire() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.exited = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.exited { return true }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
    }
}
