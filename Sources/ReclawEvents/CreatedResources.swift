import ReclawAWS
import ReclawJSON
import Synchronization

/// The ids reclaw's own changes brought into being (a route table association, a security group
/// rule), read from each successful call's response, with the deployment it was made for and the
/// resources the call named. An event naming only such an id is mapped before any drift check has
/// observed it. An observer of the AWS client.
public final class CreatedResources: AWSCallObserver, Sendable {
    struct Entry: Sendable {
        var deployment: String
        /// The resources the call that made it named: what the id belongs to.
        var owners: Set<String>
    }

    static let maxEntries = 50_000
    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    public func record(_ call: AWSCallRecord) async {
        guard call.isMutating, call.errorCode == nil, let deployment = call.context.deployment, let response = call.responseText else { return }
        var named = NameCollector()
        named.collect(call.requestParameters)
        let owners = Set(named.found.filter(AWSResourceIDs.isAWSID))
        let made = Self.ids(in: response).subtracting(owners)
        guard !made.isEmpty else { return }
        entries.withLock { e in
            if e.count + made.count > Self.maxEntries { e.removeAll() }  // what observations index covers the rest
            for id in made { e[id] = Entry(deployment: deployment, owners: owners) }
        }
    }

    public func deployment(owning id: String) -> String? {
        entries.withLock { $0[id]?.deployment }
    }

    /// The resources the call that made `id` named.
    public func owners(of id: String) -> Set<String> {
        entries.withLock { $0[id]?.owners ?? [] }
    }

    /// AWS ids in a response body (XML or JSON): its words that look like one.
    static func ids(in text: String) -> Set<String> {
        Set(text.split { !($0.isLetter || $0.isNumber || $0 == "-") }.lazy.map(String.init).filter(AWSResourceIDs.isAWSID))
    }
}
