import Foundation
import Synchronization

/// EC2's eventual consistency: an id a create call just returned may answer `…NotFound` when the
/// next calls name it ("Eventual consistency in the Amazon EC2 API"). The client remembers the ids
/// its create calls returned and, for a short window after each create, retries a NotFound that
/// concerns one of them. Any other NotFound (an id reclaw did not just create, or one it deleted)
/// still means the resource is absent.
final class FreshIDs: Sendable {
    struct Entry {
        var region: String
        var createdAt: Duration
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Operations whose response carries new ids.
    static func creates(_ operation: String) -> Bool {
        ["Create", "Run", "Associate", "Allocate", "Copy", "Import"].contains { operation.hasPrefix($0) }
    }

    /// Operations after whose success the ids they name are gone.
    static func deletes(_ operation: String) -> Bool {
        ["Delete", "Terminate", "Disassociate", "Release", "Deregister"].contains { operation.hasPrefix($0) }
    }

    /// Remembers the ids in a create's response that its request did not name (those existed before).
    func remember(_ response: [UInt8], named: [String], region: String, now: Duration, window: Duration) {
        guard let root = XMLElement.parse(response) else { return }
        let new = Set(Self.ids(in: root)).subtracting(named)
        guard !new.isEmpty else { return }
        entries.withLock { e in
            e = e.filter { now - $0.value.createdAt < window }
            for id in new { e[id] = Entry(region: region, createdAt: now) }
        }
    }

    func forget(_ ids: [String]) {
        entries.withLock { e in for id in ids { e[id] = nil } }
    }

    /// When the retry window of a NotFound ends: the latest window end among the fresh ids the call
    /// named that the error concerns (those its message names, or all the named ones when it names
    /// none). Nil when the error concerns no id created less than `window` ago.
    func retryUntil(_ error: AWSError, named: [String], region: String, now: Duration, window: Duration) -> (id: String, until: Duration)? {
        guard error.kind == .service, error.isNotFound else { return nil }
        let mentioned = Set(Self.ids(inText: error.message))
        let concerned = mentioned.isEmpty ? Set(named) : mentioned
        return entries.withLock { e in
            concerned.compactMap { id -> (String, Duration)? in
                guard let entry = e[id], entry.region == region, now - entry.createdAt < window else { return nil }
                return (id, entry.createdAt + window)
            }.max { $0.1 < $1.1 }.map { (id: $0.0, until: $0.1) }
        }
    }

    /// EC2 resource ids among the values of elements named `…Id` (vpcId, groupId, associationId...).
    static func ids(in element: XMLElement) -> [String] {
        var out: [String] = []
        if element.name.hasSuffix("Id"), element.children.isEmpty, isResourceID(element.text) { out.append(element.text) }
        for child in element.children { out += ids(in: child) }
        return out
    }

    /// EC2 resource ids in free text (an error message quotes the id it did not find).
    static func ids(inText text: String) -> [String] {
        text.split { !($0.isLetter || $0.isNumber || $0 == "-") }.map(String.init).filter(isResourceID)
    }

    /// `prefix-` (letters, possibly dashed: `rtbassoc-`, `iip-assoc-`) and 8 or 17 lowercase hex digits.
    static func isResourceID(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, let hex = parts.last, hex.count == 8 || hex.count == 17,
              hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }
}
