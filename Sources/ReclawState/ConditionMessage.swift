import Foundation

/// The one bound on what a condition's message holds, so `reclaw status`, its JSON, the state
/// files and the lease table stay small however many errors a spec has: a list shows its first
/// items and counts the rest, and any message is cut at a byte limit, saying how much was cut.
public enum ConditionMessage {
    /// Items of a list shown before "and K more".
    public static let maxItems = 5
    /// The most UTF-8 bytes a message keeps.
    public static let maxBytes = 2048

    /// The first `maxItems` items joined by "; ", then "; and K more" when there are more, within `maxBytes`.
    public static func list(_ items: [String], noun: String = "error") -> String {
        let shown = items.prefix(maxItems)
        var text = shown.joined(separator: "; ")
        let rest = items.count - shown.count
        if rest > 0 { text += "; and \(rest) more \(noun)\(rest == 1 ? "" : "s")" }
        return capped(text)
    }

    /// `message` whole when it fits in `maxBytes`, else cut on a character boundary and ending
    /// with how many bytes were cut.
    public static func capped(_ message: String, limit: Int = maxBytes) -> String {
        let total = message.utf8.count
        guard total > limit else { return message }
        let note = " … (\(total) bytes, cut)"
        var kept = ""
        var used = 0
        for character in message {
            let size = character.utf8.count
            if used + size > limit - note.utf8.count { break }
            kept.append(character)
            used += size
        }
        return kept + note
    }
}
