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

    public static let defaultSlowReadInterval: Duration = .seconds(15 * 60)

    public init(permissionsBoundary: String? = nil, slowReadInterval: Duration = ProviderSettings.defaultSlowReadInterval) {
        self.permissionsBoundary = permissionsBoundary
        self.slowReadInterval = slowReadInterval
    }
}

/// Attributes AWS returns only one resource (and one attribute) per call, kept between
/// observations so a no-op reconcile of N deployments does not cost N calls every time: a VPC's
/// `enableDnsSupport` and `enableDnsHostnames` (DescribeVpcAttribute), and the tags of an instance
/// profile (ListInstanceProfileTags: ListInstanceProfiles does not return them).
///
/// An entry is trusted for `maxAge`, then read again. It is dropped earlier when something says
/// the value may have changed: `invalidate(resourceIDs:)` (a CloudTrail event, or a plan that
/// changes the attribute, so the next observation after a correction reads it fresh). A resource
/// never seen before (one reclaw just created) has no entry and is read at once. Entries persist
/// in the state directory, so one-shot commands (`reclaw plan`) share them with the daemon; the
/// file is only a cache: unreadable, it is ignored and the attributes are read again.
public actor SlowAttributeCache {
    public struct Entry: Sendable, Hashable, Codable {
        public var values: [String: JSONValue]
        public var readAt: Date
    }

    public let maxAge: Duration
    let path: String?
    let now: @Sendable () -> Date
    let logger: Logger
    private var entries: [String: Entry] = [:]
    private var loaded = false

    public init(maxAge: Duration = ProviderSettings.defaultSlowReadInterval, path: String? = nil, logger: Logger = Logger(label: "reclaw.cache"),
                now: @escaping @Sendable () -> Date = { Clocks.date() }) {
        self.maxAge = maxAge
        self.path = path
        self.logger = logger
        self.now = now
    }

    /// The entry of a resource, when it is younger than `maxAge`.
    public func fresh(_ resourceID: String) -> Entry? {
        load()
        guard let entry = entries[resourceID] else { return nil }
        let age = now().timeIntervalSince(entry.readAt)
        return age >= 0 && age < maxAge.inSeconds ? entry : nil
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
        guard let path else { return }
        do {
            guard let bytes = try PrivateFiles.read(path) else { return }
            entries = try JSONDecoder().decode([String: Entry].self, from: Data(bytes))
        } catch {
            logger.warning("ignoring an unreadable cache of slow attributes; they are read again", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }

    private func save() {
        guard let path else { return }
        // Only what is still young is worth keeping.
        let limit = maxAge.inSeconds
        entries = entries.filter { now().timeIntervalSince($0.value.readAt) < limit }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try DurableFile.write(try encoder.encode(entries), to: path)
        } catch {
            // A cache that cannot be written costs reads, never correctness.
            logger.warning("cannot write the cache of slow attributes", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }
}
