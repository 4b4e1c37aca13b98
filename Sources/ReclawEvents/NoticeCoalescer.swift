/// Coalesces the drift checks CloudTrail's events ask for: at most one per deployment per
/// window, however many events arrive. The first event after a quiet window is checked at once;
/// those that follow join the next check, due one window after the last.
public struct NoticeCoalescer: Sendable {
    public let window: Duration
    /// When each deployment's latest event-driven check was, or is, due.
    private var scheduled: [String: Duration] = [:]

    public init(window: Duration = .seconds(5)) {
        self.window = window
    }

    /// When the drift check asked for now should run.
    public mutating func due(_ deployment: String, now: Duration) -> Duration {
        scheduled = scheduled.filter { now - $0.value < window }
        let at: Duration
        if let last = scheduled[deployment] {
            at = last > now ? last : last + window
        } else {
            at = now
        }
        scheduled[deployment] = at
        return at
    }

    /// How many deployments it remembers: only those checked within the window.
    public var count: Int { scheduled.count }
}
