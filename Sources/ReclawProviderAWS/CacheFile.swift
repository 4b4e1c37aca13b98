import Foundation
import Logging
import ReclawState

/// Where a cache of AWS readings is kept between processes, in the state directory. It is only a
/// cache: a file that cannot be read is ignored (the readings are made again), and one that cannot
/// be written costs reads, never correctness; both are logged.
struct CacheFile<Contents: Codable> {
    /// nil: kept in memory only.
    let path: String?
    /// What it holds, as the log says it ("slow attributes", "parameter values").
    let holding: String
    let logger: Logger

    /// The contents, or nil when there is no file or it cannot be read.
    func read() -> Contents? {
        guard let path else { return nil }
        do {
            guard let bytes = try PrivateFiles.read(path) else { return nil }
            return try JSONDecoder().decode(Contents.self, from: Data(bytes))
        } catch {
            logger.warning("ignoring an unreadable cache of \(holding); they are read again", metadata: ["file": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    func write(_ contents: Contents) {
        guard let path else { return }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try DurableFile.write(try encoder.encode(contents), to: path)
        } catch {
            logger.warning("cannot write the cache of \(holding)", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }
}

extension Dictionary {
    /// Drops the entries learned longest ago (by `learned`) until at most `limit` remain: what a
    /// bounded cache keeps.
    mutating func keepNewest(_ limit: Int, by learned: (Value) -> Date) {
        guard count > limit else { return }
        for (key, _) in sorted(by: { learned($0.value) < learned($1.value) }).prefix(count - limit) { self[key] = nil }
    }
}
