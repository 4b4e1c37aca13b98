import Crypto
import Foundation
import ReclawEngine
import Synchronization

/// Decides whether a push notification (`POST /hooks/git`) is genuine, fresh and new, and paces
/// the accepted ones, so that a captured request cannot be replayed and a flood of signed ones
/// cannot turn into a flood of fetches.
///
/// Two signature schemes:
/// - GitHub's: `X-Hub-Signature-256: sha256=HEX(HMAC-SHA256(secret, body))`. The time is not
///   signed, so a body digest seen within the memory is refused, as is a repeated
///   `X-GitHub-Delivery`; a push body's `repository.pushed_at` (epoch seconds, signed with the
///   body) must lie within the window.
/// - Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,BASE64(HMAC(
///   secret, id.timestamp.body))`; the timestamp must lie within the window and the id must be new.
///   A `whsec_` secret is the base64 of the key; any other secret is used as its UTF-8 bytes.
///
/// Time comes from the injected `now`.
public final class PushGate: Sendable {
    /// How strict the gate is.
    public struct Policy: Sendable {
        /// A signed time further than this from now is refused.
        public var window: Duration = .seconds(300)
        /// Accepted pushes that may come at once, and how fast that allowance refills.
        public var burst: Int = 5
        public var perSecond: Double = 1
        /// How many delivery ids and body digests are remembered (each for twice the window).
        public var memory: Int = 4096
        public init() {}
    }

    /// What the gate decided.
    public enum Decision: Equatable, Sendable {
        case accepted(scheme: String, delivery: String?)
        /// A GitHub `ping`, answered but not fetched for.
        case ping
        case refused(PushRefusal)
    }

    /// The HMAC keys of the two schemes, as bytes (swift-crypto's key type is not Sendable).
    let githubKey: [UInt8]?
    let standardKey: [UInt8]?
    let policy: Policy
    let now: @Sendable () -> Date
    private let state: Mutex<State>

    struct State {
        var seen: ReplayMemory
        var bucket: TokenBucket
    }

    /// `secret` nil or empty refuses every push (anyone can sign with an empty key). A `whsec_`
    /// secret that is not base64 is an error.
    public init(secret: String?, policy: Policy = Policy(), now: @escaping @Sendable () -> Date) throws {
        let secret = secret.flatMap { $0.isEmpty ? nil : $0 }
        githubKey = secret.map { Array($0.utf8) }
        if let secret, secret.hasPrefix("whsec_") {
            guard let key = Data(base64Encoded: String(secret.dropFirst(6))), !key.isEmpty else {
                throw OperationsServerError(.invalidSecret, "the hook secret starts with whsec_ but the rest is not base64")
            }
            standardKey = Array(key)
        } else {
            standardKey = githubKey
        }
        self.policy = policy
        self.now = now
        state = Mutex(State(seen: ReplayMemory(capacity: policy.memory),
                            bucket: TokenBucket(capacity: Double(policy.burst), perSecond: policy.perSecond)))
    }

    /// Decides on one request; `headers` has lower-cased names. An accepted delivery is remembered.
    public func decide(headers: [String: String], body: [UInt8]) -> Decision {
        guard let githubKey, let standardKey else { return .refused(.noSecret) }
        let at = now()
        var keys: [String] = []
        var signedTime: Date?
        let scheme: String
        var delivery: String?
        if let signature = headers["webhook-signature"] {
            scheme = "standard-webhooks"
            guard let id = headers["webhook-id"], !id.isEmpty, id.utf8.count <= 256,
                  let stamp = headers["webhook-timestamp"], let seconds = Int64(stamp) else { return .refused(.malformed) }
            guard Self.verifyStandard(signature: signature, id: id, timestamp: stamp, body: body, key: SymmetricKey(data: standardKey)) else {
                return .refused(.badSignature)
            }
            signedTime = Date(timeIntervalSince1970: TimeInterval(seconds))
            delivery = id
            keys.append("id:" + id)
        } else if let signature = headers["x-hub-signature-256"] {
            scheme = "github"
            guard Self.verifyGitHub(signature: signature, body: body, key: SymmetricKey(data: githubKey)) else { return .refused(.badSignature) }
            let event = headers["x-github-event"]
            if event == "ping" { return .ping }
            if event == nil || event == "push" { signedTime = Self.pushedAt(body) }
            if let id = headers["x-github-delivery"], !id.isEmpty {
                delivery = String(id.prefix(256))
                keys.append("id:" + delivery!)
            }
            keys.append("body:" + SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined())
        } else {
            return .refused(.unsigned)
        }
        if let signedTime, abs(signedTime.timeIntervalSince(at)) > policy.window.inSeconds { return .refused(.stale) }
        let memory = policy.window.inSeconds * 2
        return state.withLock { s in
            if keys.contains(where: { s.seen.contains($0, at: at, within: memory) }) { return .refused(.replayed) }
            guard s.bucket.take(at: at) else { return .refused(.rateLimited) }
            for key in keys { s.seen.insert(key, at: at) }
            return .accepted(scheme: scheme, delivery: delivery)
        }
    }

    /// `sha256=HEX` against HMAC-SHA256 of the body, in constant time.
    public static func verifyGitHub(signature: String, body: [UInt8], key: SymmetricKey) -> Bool {
        guard signature.hasPrefix("sha256="), let given = Data(hex: String(signature.dropFirst(7))) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body, using: key)
    }

    /// Any `v1,BASE64` entry of the space-separated list against HMAC-SHA256 of `id.timestamp.body`.
    public static func verifyStandard(signature: String, id: String, timestamp: String, body: [UInt8], key: SymmetricKey) -> Bool {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        var valid = false
        for entry in signature.split(separator: " ") where entry.hasPrefix("v1,") {
            if let given = Data(base64Encoded: String(entry.dropFirst(3))),
               HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: content, using: key) {
                valid = true
            }
        }
        return valid
    }

    /// A push body's `repository.pushed_at` when it is epoch seconds (other events carry a date
    /// string there that says when the repository was last pushed, not when this was sent).
    static func pushedAt(_ body: [UInt8]) -> Date? {
        struct Push: Decodable {
            struct Repository: Decodable {
                var pushedAt: Int64?
                enum CodingKeys: String, CodingKey { case pushedAt = "pushed_at" }
                init(from decoder: any Decoder) throws {
                    // A string or a missing field means the body carries no signed time.
                    pushedAt = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int64.self, forKey: .pushedAt)
                }
            }
            var repository: Repository?
        }
        guard let push = try? JSONDecoder().decode(Push.self, from: Data(body)), let seconds = push.repository?.pushedAt else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}

/// Why a request to the endpoint was refused; each reason is logged once per minute at most.
public enum PushRefusal: String, Sendable, CaseIterable {
    case noSecret = "no_secret"
    case unsigned
    case badSignature = "bad_signature"
    case malformed
    case stale
    case replayed
    case rateLimited = "rate_limited"

    public var status: Int {
        switch self {
        case .noSecret, .unsigned, .badSignature: 401
        case .malformed, .stale: 400
        case .replayed: 409
        case .rateLimited: 429
        }
    }

    public var message: String {
        switch self {
        case .noSecret: "no hook secret configured"
        case .unsigned: "missing signature: send X-Hub-Signature-256 or webhook-id, webhook-timestamp and webhook-signature"
        case .badSignature: "wrong signature"
        case .malformed: "webhook-id and an integer webhook-timestamp are required with webhook-signature"
        case .stale: "the signed time is outside the replay window (5 minutes either way)"
        case .replayed: "this delivery was already received"
        case .rateLimited: "too many push notifications; retry in a second"
        }
    }
}

/// The last `capacity` keys and when each was seen: a ring, so memory stays bounded whatever
/// arrives.
struct ReplayMemory {
    private var ring: [String?]
    private var seenAt: [String: (slot: Int, at: Date)] = [:]
    private var next = 0

    init(capacity: Int) { ring = Array(repeating: nil, count: max(1, capacity)) }

    func contains(_ key: String, at now: Date, within seconds: Double) -> Bool {
        guard let entry = seenAt[key] else { return false }
        return now.timeIntervalSince(entry.at) < seconds
    }

    mutating func insert(_ key: String, at now: Date) {
        if let old = seenAt[key] {
            seenAt[key] = (old.slot, now)
            return
        }
        if let evicted = ring[next] { seenAt[evicted] = nil }
        ring[next] = key
        seenAt[key] = (next, now)
        next = (next + 1) % ring.count
    }

    var count: Int { seenAt.count }
}

/// A token bucket: `capacity` at once, refilled at `perSecond`.
struct TokenBucket {
    let capacity: Double
    let perSecond: Double
    private var tokens: Double
    private var last: Date?

    init(capacity: Double, perSecond: Double) {
        self.capacity = capacity
        self.perSecond = perSecond
        tokens = capacity
    }

    mutating func take(at now: Date) -> Bool {
        if let last { tokens = min(capacity, tokens + max(0, now.timeIntervalSince(last)) * perSecond) }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

extension Data {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            bytes.append(b)
            i = j
        }
        self.init(bytes)
    }
}
