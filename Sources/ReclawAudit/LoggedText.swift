/// Values taken from events and AWS answers as they reach the log: cut to a bounded length, so a
/// forged event's 200 KB `eventName` costs a line, not a megabyte of log.
public enum LoggedText {
    /// The longest value logged whole, in bytes of UTF-8.
    public static let limit = 256

    /// `text` itself when short; else its first `limit` bytes (whole characters), then how much was left out.
    public static func bounded(_ text: String, limit: Int = LoggedText.limit) -> String {
        let count = text.utf8.count
        guard count > limit else { return text }
        var kept = ""
        var used = 0
        for c in text {
            let size = c.utf8.count
            if used + size > limit { break }
            kept.append(c)
            used += size
        }
        return "\(kept)…(\(count - used) more bytes)"
    }

    public static func bounded(_ text: String?, limit: Int = LoggedText.limit) -> String {
        text.map { bounded($0, limit: limit) } ?? ""
    }
}
