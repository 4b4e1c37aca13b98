import Foundation
import ReclawState

/// Why the source is held at the revision in force, for `/healthz`: a problem a restart does not
/// fix, named like a stalled deployment (`ok; source rejected: …`), never a liveness failure.
enum SourceHold: Sendable {
    /// The newest revision is refused for its signature; the last verified one stays in force.
    case rejected(String)
    /// The last verified revision cannot be read from the state directory: nothing is applied.
    case stateUnreadable(String)

    var note: String {
        switch self {
        case .rejected(let why): return "source rejected: \(why); the last verified revision stays in force"
        case .stateUnreadable(let why): return "source held: \(why); nothing is applied until it can be read"
        }
    }
}

extension ReconcileDaemon.Core {
    var sourceHold: SourceHold? {
        if let verifiedStateError { return .stateUnreadable(verifiedStateError.message) }
        return rejected.map { .rejected($0.description) }
    }
}
