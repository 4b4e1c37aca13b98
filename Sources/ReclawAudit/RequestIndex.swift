import Foundation
import ReclawAWS

/// reclaw's own request ids with when they were made, bounded by a retention window and a count.
struct RequestIndex {
    static let maxEntries = 200_000
    private var times: [String: Date] = [:]

    mutating func insert(_ id: String, at time: Date) {
        times[id] = time
        if times.count > Self.maxEntries, let oldest = times.values.sorted().dropLast(Self.maxEntries * 3 / 4).last {
            prune(before: oldest)
        }
    }

    mutating func prune(before cutoff: Date) {
        times = times.filter { $0.value >= cutoff }
    }

    func contains(_ id: String, since: Date) -> Bool {
        times[id].map { $0 >= since } ?? false
    }

    func ids(since: Date) -> Set<String> {
        Set(times.filter { $0.value >= since }.keys)
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
