import Foundation
import ReclawTime

/// One wait for AWS to settle: what is awaited (phrased to follow "waiting for"), the deadline,
/// and whether it is a brief retry (an id becoming visible, a throttled call) worth showing only
/// once it lasts.
public struct WaitRecord: Sendable, Hashable {
    public let id: UUID
    /// e.g. `endpoint vpce-0abc to become available`.
    public let what: String
    public let deadline: Duration
    public let brief: Bool

    public init(what: String, deadline: Duration, brief: Bool = false, id: UUID = UUID()) {
        self.id = id
        self.what = what
        self.deadline = deadline
        self.brief = brief
    }
}

/// How a wait ended.
public enum WaitOutcome: Sendable, Hashable {
    /// What was awaited happened.
    case done
    /// The deadline passed; the step fails with `code`.
    case gaveUp(code: String)
    /// An error that is not transient ended the wait.
    case failed(code: String)
}

/// Told when a step starts waiting for AWS, while it waits, and when it stops, so the wait shows in
/// the deployment's status and log. Called from concurrent steps.
public protocol WaitObserver: Sendable {
    func waitBegan(_ wait: WaitRecord) async
    func waitContinues(_ wait: WaitRecord, elapsed: Duration) async
    func waitEnded(_ wait: WaitRecord, elapsed: Duration, outcome: WaitOutcome) async
}

/// The wait under way in one call or step: tells its observer when it begins, while it goes on,
/// and when it ends. A new `what` ends the previous wait and begins another.
public struct WaitProgress: Sendable {
    public let observer: (any WaitObserver)?
    public private(set) var current: (record: WaitRecord, since: Duration)?

    public init(observer: (any WaitObserver)?) {
        self.observer = observer
    }

    /// Notes that the step is (still) waiting for `what`.
    public mutating func note(_ what: String, deadline: Duration, brief: Bool = false) async {
        if let (record, since) = current {
            if record.what == what {
                await observer?.waitContinues(record, elapsed: Clocks.now() - since)
                return
            }
            await end(.done)
        }
        let record = WaitRecord(what: what, deadline: deadline, brief: brief)
        current = (record, Clocks.now())
        await observer?.waitBegan(record)
    }

    /// Ends the wait under way, if any.
    public mutating func end(_ outcome: WaitOutcome) async {
        guard let (record, since) = current else { return }
        current = nil
        await observer?.waitEnded(record, elapsed: Clocks.now() - since, outcome: outcome)
    }

    /// How long the wait under way has lasted.
    public var elapsed: Duration? { current.map { Clocks.now() - $0.since } }
}
