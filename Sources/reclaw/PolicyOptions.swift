import ArgumentParser
import Foundation
import ReclawController
import ReclawDaemon
import ReclawTime

/// `--policy-command CMD [--policy-timeout 60s]` (`RECLAW_POLICY_COMMAND`): the operator's policy
/// command, run on each deployment's plan before it is applied (`run`, `apply`), or judged
/// without applying (`plan`).
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A command run through /bin/sh -c on each deployment's plan before it is applied (default: $RECLAW_POLICY_COMMAND).",
        discussion: "The plan JSON is at $RECLAW_PLAN_JSON and on standard input; $RECLAW_DEPLOYMENT and $RECLAW_REVISION are set. Exit 0 allows; anything else denies, and nothing of the plan is applied.",
        valueName: "command"))
    var policyCommand: String?

    @Option(help: "How long the policy command may take before the plan is denied: 30s, 1m, 5m.")
    var policyTimeout: String = "60s"

    /// The command from the option, else from the environment.
    var command: String? {
        if let policyCommand { return policyCommand.isEmpty ? nil : policyCommand }
        return ProcessInfo.processInfo.environment[PolicyGate.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    func validate() throws {
        guard let d = DurationText.parse(policyTimeout), d > .zero else {
            throw ValidationError("--policy-timeout takes a duration such as 30s, 1m or 5m")
        }
    }

    /// The gate, when a command is set; `sleep` waits out its timeout.
    func gate(sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Clocks.sleep(for: $0) }) -> PolicyGate? {
        command.map { PolicyGate(command: $0, timeout: DurationText.parse(policyTimeout) ?? PolicyGate.defaultTimeout, sleep: sleep) }
    }
}
