import Foundation
import ReclawAWS

/// reclaw's own request ids with when they were made, bounded by a retention window and a count.
/// A daemon keeps one entry per mutating call for days (a rollout of 1000 deployments makes tens
/// of thousands), so an id in AWS's usual form, a UUID, is kept as its 16 bytes rather than as
/// a string of its own on the heap.
struct RequestIndex {
    static let maxEntries = 200_000
    private var times: [RequestID: Date] = [:]

    var count: Int { times.count }

    mutating func insert(_ id: String, at time: Date) {
        times[RequestID(id)] = time
        if times.count > Self.maxEntries, let oldest = times.values.sorted().dropLast(Self.maxEntries * 3 / 4).last {
            prune(before: oldest)
        }
    }

    mutating func prune(before cutoff: Date) {
        times = times.filter { $0.value >= cutoff }
    }

    func contains(_ id: String, since: Date) -> Bool {
        times[RequestID(id)].map { $0 >= since } ?? false
    }

    func ids(since: Date) -> Set<String> {
        Set(times.lazy.filter { $0.value >= since }.map(\.key.text))
    }

    /// Reads the AwsApiCall events of the retention window from the log files.
    static func load(path: String, keep: Int, retention: TimeInterval, now: Date) -> RequestIndex {
        var index = RequestIndex()
        let cutoff = now.addingTimeInterval(-retention)
        let marker = Array("\"eventType\":\"AwsApiCall\"".utf8)
        struct Call: Decodable { var requestID: String?; var eventTime: String }
        AuditLog.forEachLine(path: path, keep: keep) { line in
            guard line.firstRange(of: marker) != nil, let call = try? JSONDecoder().decode(Call.self, from: Data(line)),
                  let id = call.requestID, let time = ISO8601.parse(call.eventTime), time >= cutoff else { return }
            index.insert(id, at: time)
        }
        return index
    }
}

/// One request id, compact when it allows: a UUID written all in lower case or all in upper case
/// is kept as its bytes and that case, and gives back exactly the text it was made from; any other
/// id is kept as it is. Two ids are the same only when their texts are.
struct RequestID: Hashable {
    private enum Form: Hashable {
        case lowercaseUUID(UUID)
        case uppercaseUUID(UUID)
        case text(String)
    }

    private let form: Form

    init(_ text: String) {
        if text.utf8.count == 36, let uuid = UUID(uuidString: text) {
            let upper = uuid.uuidString
            if text == upper {
                form = .uppercaseUUID(uuid)
                return
            }
            if text == upper.lowercased() {
                form = .lowercaseUUID(uuid)
                return
            }
        }
        form = .text(text)
    }

    /// Whether the id is kept as a UUID's bytes.
    var isCompact: Bool {
        if case .text = form { return false }
        return true
    }

    /// The id as it was given.
    var text: String {
        switch form {
        case .lowercaseUUID(let uuid): uuid.uuidString.lowercased()
        case .uppercaseUUID(let uuid): uuid.uuidString
        case .text(let text): text
        }
    }
}
