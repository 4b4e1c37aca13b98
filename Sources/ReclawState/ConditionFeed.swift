import Foundation
import Synchronization

/// Every status whose conditions `StatusRecorder` writes, handed on once the write is durable: the
/// daemon's metrics and /healthz follow it, so they say what `reclaw status` says.
public final class ConditionFeed: Sendable {
    private let listener = Mutex<(@Sendable (DeploymentStatus) -> Void)?>(nil)

    public init() {}

    /// Sets the one listener (the daemon); it must return at once.
    public func listen(_ listener: @escaping @Sendable (DeploymentStatus) -> Void) {
        self.listener.withLock { $0 = listener }
    }

    /// Hands a written status to the listener, outside the lock.
    func written(_ status: DeploymentStatus) {
        listener.withLock { $0 }?(status)
    }
}
