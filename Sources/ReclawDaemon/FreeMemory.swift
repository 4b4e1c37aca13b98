internal import CSystemShim

/// A daemon's work comes in bursts (a round of observations, a slow-attribute read of every
/// VPC) and glibc's malloc keeps what a burst freed in its per-thread arenas, most of it never
/// handed back: resident memory then climbs in steps for hours though the live heap is flat.
/// The daemon hands it back once a minute, so resident memory follows what is really in use.
public enum FreeMemory {
    /// How often the daemon hands free memory back.
    public static let period: Duration = .seconds(60)

    /// Hands back to the system the memory malloc holds free; true when some was returned.
    @discardableResult
    public static func release() -> Bool {
        reclaw_release_free_memory() == 1
    }
}
