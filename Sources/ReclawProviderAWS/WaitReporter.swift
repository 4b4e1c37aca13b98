import Foundation
import Logging
import ReclawAWS

/// Shows what a deployment waits for: each wait is logged once when it begins and once when it
/// ends (never on every poll), and `write` gets the Reconciling condition's message listing the
/// waits under way with how long each has lasted, refreshed at most every `refresh`; nil when no
/// wait is left. Brief retries (a new id not yet visible, a throttled call) show only once they
/// have lasted `briefThreshold`.
public actor WaitReporter: WaitObserver {
    public typealias Write = @Sendable (_ message: String?) throws -> Void

    struct Active {
        var record: WaitRecord
        var elapsed: Duration = .zero
        var shown: Bool
        var written: Duration = .zero
        var order: Int
    }

    let metadata: Logger.Metadata
    let logger: Logger
    let write: Write?
    let refresh: Duration
    let briefThreshold: Duration
    private var active: [UUID: Active] = [:]
    private var counter = 0

    public init(deployment: String?, planID: String?, logger: Logger, refresh: Duration = .seconds(10), briefThreshold: Duration = .seconds(2),
                write: Write? = nil) {
        var metadata: Logger.Metadata = [:]
        if let deployment { metadata["deployment"] = "\(deployment)" }
        if let planID { metadata["plan.id"] = "\(planID)" }
        self.metadata = metadata
        self.logger = logger
        self.refresh = refresh
        self.briefThreshold = briefThreshold
        self.write = write
    }

    public func waitBegan(_ wait: WaitRecord) {
        counter += 1
        active[wait.id] = Active(record: wait, shown: !wait.brief, order: counter)
        if wait.brief {
            logger.debug("waiting for \(wait.what)", metadata: metadata)
        } else {
            logger.info("waiting for \(wait.what) (deadline \(wait.deadline.spokenDuration))", metadata: metadata)
            publish()
        }
    }

    public func waitContinues(_ wait: WaitRecord, elapsed: Duration) {
        guard var a = active[wait.id] else { return }
        a.elapsed = elapsed
        defer { active[wait.id] = a }
        if !a.shown {
            guard elapsed >= briefThreshold else { return }
            a.shown = true
            logger.info("waiting for \(wait.what) (\(elapsed.spokenDuration) so far; deadline \(wait.deadline.spokenDuration))", metadata: metadata)
        } else if elapsed - a.written < refresh {
            return
        }
        a.written = elapsed
        active[wait.id] = a
        publish()
    }

    public func waitEnded(_ wait: WaitRecord, elapsed: Duration, outcome: WaitOutcome) {
        guard let a = active.removeValue(forKey: wait.id) else { return }
        guard a.shown else {
            logger.debug("done waiting for \(wait.what) (\(elapsed.spokenDuration))", metadata: metadata)
            return
        }
        switch outcome {
        case .done:
            logger.info("done waiting for \(wait.what) (\(elapsed.spokenDuration))", metadata: metadata)
        case .gaveUp(let code):
            var m = metadata
            m["aws.error_code"] = "\(code)"
            logger.warning("gave up waiting for \(wait.what) after \(elapsed.spokenDuration)", metadata: m)
        case .failed(let code):
            var m = metadata
            m["aws.error_code"] = "\(code)"
            logger.info("stopped waiting for \(wait.what) after \(elapsed.spokenDuration): \(code)", metadata: m)
        }
        publish()
    }

    /// The waits shown now, oldest first.
    var shown: [Active] { active.values.filter(\.shown).sorted { $0.order < $1.order } }

    private func publish() {
        guard let write else { return }
        let waits = shown
        let message = waits.isEmpty ? nil : Self.message(waits.map { ($0.record.what, $0.elapsed, $0.record.deadline) })
        do { try write(message) } catch {
            logger.error("cannot write the deployment's status while it waits", metadata: metadata.merging(["error": "\(error)"]) { a, _ in a })
        }
    }

    /// `waiting for endpoint vpce-1 to become available (40 s so far; deadline 10 min); waiting for …`
    public static func message(_ waits: [(what: String, elapsed: Duration, deadline: Duration)]) -> String {
        waits.map { w in
            let so = w.elapsed < .seconds(1) ? "" : "\(w.elapsed.spokenDuration) so far; "
            return "waiting for \(w.what) (\(so)deadline \(w.deadline.spokenDuration))"
        }.joined(separator: "; ")
    }
}
