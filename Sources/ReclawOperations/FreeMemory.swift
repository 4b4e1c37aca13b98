import Foundation
internal import CSystemShim

/// A daemon's work comes in bursts (a round of observations, a slow-attribute read of every
/// VPC) and glibc's malloc keeps what a burst freed in its per-thread arenas, most of it never
/// handed back: resident memory then climbs in steps for hours though the live heap is flat.
/// The daemon keeps few arenas and hands free memory back once a minute, so resident memory
/// follows what is really in use.
public enum FreeMemory {
    /// The malloc arenas the daemon keeps. glibc's default is eight per core, each holding its own
    /// free memory; the daemon's threads mostly wait on the network, so they rarely contend for
    /// two, and a burst's free memory is no longer scattered across many heaps.
    public static let arenas = 2

    /// Whether the arena cap was set, or left to the operator's `MALLOC_ARENA_MAX`.
    public enum ArenaLimit: Equatable, Sendable, CustomStringConvertible {
        case limited(to: Int)
        case leftToEnvironment(String)
        case unsupported

        public var description: String {
            switch self {
            case .limited(let count): "\(count)"
            case .leftToEnvironment(let chosen): "MALLOC_ARENA_MAX=\(chosen)"
            case .unsupported: "the C library's default"
            }
        }
    }

    /// Caps malloc's arenas at `arenas`, unless `MALLOC_ARENA_MAX` in `environment` already
    /// chose a number (glibc reads it at start; the operator's choice wins). Call it before the
    /// daemon starts its threads: arenas already made stay.
    @discardableResult
    public static func limitArenas(environment: [String: String] = ProcessInfo.processInfo.environment) -> ArenaLimit {
        if let chosen = environment["MALLOC_ARENA_MAX"] { return .leftToEnvironment(chosen) }
        return reclaw_limit_malloc_arenas(Int32(arenas)) == 0 ? .limited(to: arenas) : .unsupported
    }

    /// How often the daemon hands free memory back.
    public static let period: Duration = .seconds(60)

    /// Hands back to the system the memory malloc holds free; true when some was returned.
    @discardableResult
    public static func release() -> Bool {
        reclaw_release_free_memory() == 1
    }
}
