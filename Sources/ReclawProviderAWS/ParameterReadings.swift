import Foundation
import Logging
import ReclawAWS
import ReclawTime

/// The values of String parameters as last read, each with the version and modification time
/// AWS gave it, so an observation reads again (GetParameters, ten names a call) only the
/// parameters whose stamp (DescribeParameters, fifty a call) has changed since. Parameter Store
/// changes a value only by writing a new version, and a parameter deleted and made again has a
/// new modification time: a reading whose stamp still matches is the parameter's value, exactly,
/// and a hand edit is seen at the next observation as before. SecureString values are never read.
///
/// Keyed by ARN (account, region and name). Persisted in the state directory, so one-shot commands
/// share it with the daemon; the file is only a cache: unreadable, it is ignored and the values
/// are read again. A reading not confirmed for `retention` is dropped and read again when needed.
public actor ParameterReadings {
    public struct Reading: Sendable, Hashable, Codable {
        public var stamp: ParameterStamp
        public var value: String?
        /// When the value was read, or last found current.
        public var seenAt: Date
    }

    public static let retention: Duration = .seconds(7 * 24 * 3600)
    let file: CacheFile<[String: Reading]>
    let now: @Sendable () -> Date
    private var readings: [String: Reading] = [:]
    private var loaded = false

    public init(path: String? = nil, logger: Logger = Logger(label: "reclaw.cache"), now: @escaping @Sendable () -> Date = { Clocks.date() }) {
        self.file = CacheFile(path: path, holding: "parameter values", logger: logger)
        self.now = now
    }

    /// Of the parameters `stamps` describes (by ARN): the values still current, and the ARNs whose
    /// value must be read (a String parameter never read, or changed since).
    public func split(_ stamps: [String: ParameterStamp]) -> (current: [String: String], unread: [String]) {
        load()
        let at = now()
        var current: [String: String] = [:]
        var unread: [String] = []
        var touched = false
        for (arn, stamp) in stamps where stamp.type != "SecureString" {
            if var r = readings[arn], stamp.isKnown, r.stamp == stamp, let value = r.value {
                current[arn] = value
                // Confirmed readings stay; the file is rewritten at most once a day for this.
                if at.timeIntervalSince(r.seenAt) > 24 * 3600 { r.seenAt = at; readings[arn] = r; touched = true }
            } else {
                unread.append(arn)
            }
        }
        if touched { save() }
        return (current, unread.sorted())
    }

    /// Records values just read, each with the stamp GetParameters returned it with.
    public func store(_ read: [String: (stamp: ParameterStamp, value: String)]) {
        guard !read.isEmpty else { return }
        load()
        let at = now()
        for (arn, r) in read where r.stamp.isKnown { readings[arn] = Reading(stamp: r.stamp, value: r.value, seenAt: at) }
        save()
    }

    private func load() {
        guard !loaded else { return }
        loaded = true
        readings = file.read() ?? [:]
    }

    private func save() {
        let at = now()
        readings = readings.filter { at.timeIntervalSince($0.value.seenAt) < Self.retention.inSeconds }
        file.write(readings)
    }
}
