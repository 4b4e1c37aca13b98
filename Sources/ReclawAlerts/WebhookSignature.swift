import Crypto
import Foundation

/// Signs what reclaw sends to a generic alert webhook, so its receiver can tell reclaw's alerts
/// from anyone else's POST, and a replayed one from a new one. Two schemes, the same two the
/// daemon's own `/hooks/git` receiver accepts:
///
/// - Standard Webhooks (standardwebhooks.com): `webhook-id` (the delivery id: the audit event's
///   id, the same on every retry), `webhook-timestamp` (Unix seconds of this attempt) and
///   `webhook-signature: v1,BASE64(HMAC-SHA256(key, "ID.TIMESTAMP.BODY"))`. A `whsec_` secret is
///   the base64 of the key; any other secret is used as its UTF-8 bytes.
/// - GitHub's: `X-Reclaw-Signature-256: sha256=HEX(HMAC-SHA256(secret, BODY))`, with the secret's
///   UTF-8 bytes, as `X-Hub-Signature-256` is made.
public struct WebhookSigner: Sendable {
    let githubKey: [UInt8]
    let standardKey: [UInt8]

    /// An empty secret, or a `whsec_` one that is not base64, is an error.
    public init(secret: String) throws(WebhookSecretError) {
        let secret = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw WebhookSecretError("the alert webhook secret is empty") }
        githubKey = Array(secret.utf8)
        if secret.hasPrefix("whsec_") {
            guard let key = Data(base64Encoded: String(secret.dropFirst(6))), !key.isEmpty else {
                throw WebhookSecretError("the alert webhook secret starts with whsec_ but the rest is not base64")
            }
            standardKey = Array(key)
        } else {
            standardKey = githubKey
        }
    }

    /// The signature headers for one delivery attempt.
    public func headers(id: String, timestamp: Int64, body: [UInt8]) -> [(name: String, value: String)] {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        let standard = Data(HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: standardKey))).base64EncodedString()
        let github = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: githubKey)).map { String(format: "%02x", $0) }.joined()
        return [("webhook-signature", "v1,\(standard)"), ("X-Reclaw-Signature-256", "sha256=\(github)")]
    }
}

/// A webhook secret reclaw cannot use.
public struct WebhookSecretError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
