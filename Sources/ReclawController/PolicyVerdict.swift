import Foundation

/// What an operator's policy command said of one deployment's plan.
public struct PolicyVerdict: Sendable, Hashable {
    /// How the command ended; only `allowed` lets the plan be applied.
    public enum Result: String, Sendable, Hashable, CaseIterable {
        /// It exited 0.
        case allowed
        /// It exited with another status, or was killed by a signal.
        case denied
        /// It did not finish within the policy timeout and was stopped.
        case timedOut = "timed_out"
        /// It could not be started (its plan file could not be written, `/bin/sh` could not run).
        case failedToStart = "failed_to_start"
    }

    public var result: Result
    /// The exit status, or the signal number when `killedBySignal`.
    public var status: Int32?
    public var killedBySignal: Bool
    /// Standard output and standard error, each cut at `PolicyGate.outputLimit` bytes.
    public var standardOutput: String
    public var standardError: String

    public init(result: Result, status: Int32? = nil, killedBySignal: Bool = false, standardOutput: String = "", standardError: String = "") {
        self.result = result
        self.status = status
        self.killedBySignal = killedBySignal
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// Both outputs, standard error after standard output, for the audit event.
    public var output: String {
        standardError.isEmpty ? standardOutput : standardOutput + (standardOutput.isEmpty ? "" : "\n") + "[stderr]\n" + standardError
    }

    public var allowed: Bool { result == .allowed }

    /// `exit 1`, `signal 9`, `timed out after 60s`, `could not start: …`.
    public func describe(timeout: Duration) -> String {
        switch result {
        case .allowed: return "allowed"
        case .denied: return killedBySignal ? "denied (killed by signal \(status ?? 0))" : "denied (exit \(status ?? -1))"
        case .timedOut: return "denied (no answer within \(timeout.components.seconds)s)"
        case .failedToStart: return "denied (the policy command could not start)"
        }
    }

    /// The first lines of the output, for a status condition's message: standard output's, or
    /// standard error's when the command printed nothing else (a tool's warnings stay out of the way).
    public func firstLines(_ count: Int = 5, width: Int = 200) -> String {
        let text = standardOutput.contains(where: { !$0.isWhitespace }) ? standardOutput : standardError
        return text.split(separator: "\n", omittingEmptySubsequences: true).prefix(count)
            .map { $0.count > width ? String($0.prefix(width)) + "…" : String($0) }.joined(separator: "\n")
    }
}
