import Foundation
import Logging
import ReclawEngine
import ReclawJSON
import ReclawState
import ReclawTime

/// Settings of the AWS provider that the operator, not the spec's author, decides.
public struct ProviderSettings: Sendable, Hashable {
    /// The managed policy ARN every role reclaw creates carries as its permissions boundary.
    public var permissionsBoundary: String?
    /// How long a slow attribute (one AWS call per resource) is trusted before it is read again.
    public var slowReadInterval: Duration
    /// How many resources whose slow attributes are due one observation reads at most (those read
    /// longest ago first; the others keep their last reading until their turn), so a pass over a
    /// thousand VPCs costs what a pass over a few does. nil: every due one (one-shot commands).
    public var slowReadsPerObservation: Int?

    public static let defaultSlowReadInterval: Duration = .seconds(15 * 60)
    /// What the daemon reads per observation: 16 VPCs' DNS attributes (32 calls), 16 profiles' tags.
    public static let daemonSlowReadsPerObservation = 16

    public init(permissionsBoundary: String? = nil, slowReadInterval: Duration = ProviderSettings.defaultSlowReadInterval,
                slowReadsPerObservation: Int? = nil) {
        self.permissionsBoundary = permissionsBoundary
        self.slowReadInterval = slowReadInterval
        self.slowReadsPerObservation = slowReadsPerObservation.map { max(1, $0) }
    }
}

/// Attributes AWS returns only one resource (and one attribute) per call, kept between
/// observations so a no-op reconcile of N deployments does not cost N calls every time: a VPC's
/// `enableDnsSupport` and `enableDnsHostnames` (DescribeVpcAttribute), and the tags of an instance
/// profile (ListInstanceProfileTags: ListInstanceProfiles does not return them).
///
/// An entry is trusted for `maxAge`, then read again: by one-shot commands at once, by the daemon
/// within its budget of `readsPerObservation` (the entries read longest ago first), so the calls of
/// a pass do not grow with the region; an entry past `maxAge` keeps serving until its turn, and one
/// older than `retention` is read at once whatever the budget. An entry is dropped earlier when
/// something says the value may have changed: `invalidate(resourceIDs:)` (a CloudTrail event, or a
/// plan that changes the attribute, so the next observation after a correction reads it fresh). A
/// resource never seen before (one reclaw just created) has no entry and is read at once. Entries persist
/// in the state directory, so one-shot commands (`reclaw plan`) share them with the daemon; the
/// file is only a cache: unreadable, it is ignored and the attributes are read again.
public actor SlowAttributeCache {
    public struct Entry: Sendable, Hashable, Codable {
        public var values: [String: JSONValue]
        public var readAt: Date
    }

    public let maxAge: Duration
    /// Due entries read per observation at most; nil: all of them.
    public let readsPerObservation: Int?
    /// How long an entry past `maxAge` may keep serving while it waits for its turn.
    public static let retention: Duration = .seconds(24 * 3600)
    let file: CacheFile<[String: Entry]>
    let now: @Sendable () -> Date
    private var entries: [String: Entry] = [:]
    private var loaded = false

    public init(maxAge: Duration = ProviderSettings.defaultSlowReadInterval, readsPerObservation: Int? = nil, path: String? = nil,
                logger: Logger = Logger(label: "reclaw.cache"), now: @escaping @Sendable () -> Date = { Clocks.date() }) {
        self.maxAge = maxAge
        self.readsPerObservation = readsPerObservation
        self.file = CacheFile(path: path, holding: "slow attributes", logger: logger)
        self.now = now
    }

    /// The entry of a resource, when it is younger than `maxAge`.
    public func fresh(_ resourceID: String) -> Entry? {
        load()
        guard let entry = entries[resourceID] else { return nil }
        let age = now().timeIntervalSince(entry.readAt)
        return age >= 0 && age < maxAge.inSeconds ? entry : nil
    }

    /// What one observation does with the slow attributes of `ids`: `known` serves the entries
    /// younger than `maxAge`, and those past it that wait for their turn; `read` lists what to read
    /// now: every id without an entry (or with one older than `retention`), then the due ones read
    /// longest ago, up to `readsPerObservation` in all.
    public func schedule(_ ids: [String]) -> (known: [String: Entry], read: [String]) {
        load()
        let at = now()
        var known: [String: Entry] = [:]
        var must: [String] = []
        var due: [(String, Entry)] = []
        for id in ids {
            guard let entry = entries[id] else { must.append(id); continue }
            let age = at.timeIntervalSince(entry.readAt)
            if age >= 0 && age < maxAge.inSeconds {
                known[id] = entry
            } else if age >= 0 && age < Self.retention.inSeconds {
                due.append((id, entry))
            } else {
                must.append(id)
            }
        }
        due.sort { ($0.1.readAt, $0.0) < ($1.1.readAt, $1.0) }
        let turns = readsPerObservation.map { max(0, $0 - must.count) } ?? due.count
        for (id, entry) in due.dropFirst(turns) { known[id] = entry }
        return (known, must + due.prefix(turns).map(\.0))
    }

    /// Records values just read.
    public func store(_ values: [String: [String: JSONValue]]) {
        guard !values.isEmpty else { return }
        load()
        let at = now()
        for (id, v) in values { entries[id] = Entry(values: v, readAt: at) }
        save()
    }

    /// Forgets what is known of these resources, so the next observation reads them again.
    /// Ids of resources without slow attributes are ignored.
    public func invalidate(resourceIDs: [String]) {
        load()
        var changed = false
        for id in resourceIDs where entries.removeValue(forKey: id) != nil { changed = true }
        if changed { save() }
    }

    private func load() {
        guard !loaded else { return }
        loaded = true
        entries = file.read() ?? [:]
    }

    private func save() {
        // Only what may still serve is worth keeping.
        let limit = max(maxAge, Self.retention).inSeconds
        entries = entries.filter { now().timeIntervalSince($0.value.readAt) < limit }
        file.write(entries)
    }
}
