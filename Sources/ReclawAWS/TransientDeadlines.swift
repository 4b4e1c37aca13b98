/// How long reclaw waits out each of AWS's transient states before it reports a failure, in one
/// place. Until its deadline a transient is retried or polled inside its step and never reported;
/// past it, the step fails once with AWS's error code and request id. docs/operations.md ("What
/// reclaw waits for") lists them; tests scale them down with `scaled(_:)`.
public struct TransientDeadlines: Sendable, Hashable {
    /// A new EC2 id answering `…NotFound` when the next call names it (EC2's eventual consistency),
    /// counted from the create that returned it.
    public var eventualConsistency: Duration
    /// A call refused with RequestLimitExceeded or Throttling, retried under the adaptive rate
    /// limit, counted from its first attempt.
    public var throttling: Duration
    /// A new instance profile refused by RunInstances, a new role refused by AssumeRole.
    public var iamPropagation: Duration
    /// An interface endpoint from `pending` to `available`.
    public var endpointAvailable: Duration
    /// A deleted endpoint from `deleting` to `deleted`.
    public var endpointDeleted: Duration
    /// An instance from `pending` to `running` (launch and start).
    public var instanceRunning: Duration
    /// From `stopping` to `stopped`.
    public var instanceStopped: Duration
    /// From `shutting-down` to `terminated`.
    public var instanceTerminated: Duration
    /// A delete refused with DependencyViolation while an endpoint's or instance's network
    /// interfaces still use the subnet or security group.
    public var dependencyRelease: Duration
    /// SendCommand's InvalidInstanceId while a running instance's SSM agent registers.
    public var agentRegistration: Duration
    /// SSM's delivery timeout (SendCommand's TimeoutSeconds): a command not started by then never runs.
    public var commandDelivery: Duration
    /// The converge script's execution timeout (AWS-RunShellScript's executionTimeout).
    public var commandExecution: Duration

    public init(eventualConsistency: Duration = .seconds(120), throttling: Duration = .seconds(120), iamPropagation: Duration = .seconds(120),
                endpointAvailable: Duration = .seconds(600), endpointDeleted: Duration = .seconds(600), instanceRunning: Duration = .seconds(600),
                instanceStopped: Duration = .seconds(600), instanceTerminated: Duration = .seconds(600), dependencyRelease: Duration = .seconds(600),
                agentRegistration: Duration = .seconds(900), commandDelivery: Duration = .seconds(600), commandExecution: Duration = .seconds(900)) {
        self.eventualConsistency = eventualConsistency
        self.throttling = throttling
        self.iamPropagation = iamPropagation
        self.endpointAvailable = endpointAvailable
        self.endpointDeleted = endpointDeleted
        self.instanceRunning = instanceRunning
        self.instanceStopped = instanceStopped
        self.instanceTerminated = instanceTerminated
        self.dependencyRelease = dependencyRelease
        self.agentRegistration = agentRegistration
        self.commandDelivery = commandDelivery
        self.commandExecution = commandExecution
    }

    /// Every deadline the same (tests that only need "long enough").
    public static func all(_ deadline: Duration) -> TransientDeadlines {
        TransientDeadlines(eventualConsistency: deadline, throttling: deadline, iamPropagation: deadline, endpointAvailable: deadline,
                           endpointDeleted: deadline, instanceRunning: deadline, instanceStopped: deadline, instanceTerminated: deadline,
                           dependencyRelease: deadline, agentRegistration: deadline, commandDelivery: deadline, commandExecution: deadline)
    }

    /// How long reclaw waits for a converge command's result: delivery, execution, and a minute
    /// for the result to reach GetCommandInvocation.
    public var commandCompletion: Duration { commandDelivery + commandExecution + .seconds(60) }

    /// Every deadline times `factor`, as the emulator's realistic mode scales AWS's durations.
    public func scaled(_ factor: Double) -> TransientDeadlines {
        TransientDeadlines(eventualConsistency: eventualConsistency * factor, throttling: throttling * factor, iamPropagation: iamPropagation * factor,
                           endpointAvailable: endpointAvailable * factor, endpointDeleted: endpointDeleted * factor,
                           instanceRunning: instanceRunning * factor, instanceStopped: instanceStopped * factor,
                           instanceTerminated: instanceTerminated * factor, dependencyRelease: dependencyRelease * factor,
                           agentRegistration: agentRegistration * factor, commandDelivery: commandDelivery * factor,
                           commandExecution: commandExecution * factor)
    }
}

extension Duration {
    /// The duration as a person reads it in a log line or a condition: `800 ms`, `40 s`, `2 min 5 s`.
    public var spokenDuration: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        let seconds = (milliseconds + 500) / 1000
        if seconds < 60 { return "\(seconds) s" }
        let minutes = seconds / 60, rest = seconds % 60
        return rest == 0 ? "\(minutes) min" : "\(minutes) min \(rest) s"
    }
}
