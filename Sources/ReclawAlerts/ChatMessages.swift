import Foundation
import ReclawAWS
import ReclawAudit
import ReclawJSON

/// Text cut to a chat platform's limits, saying how much was cut. Lengths are counted in UTF-16
/// code units, which is never less than what Slack or Discord count, so a fitted text is never
/// refused.
enum ChatText {
    static func length(_ s: String) -> Int { s.utf16.count }

    /// `s` within `limit`: whole as long as it fits; else cut, ending with the count of what was cut.
    static func fit(_ s: String, _ limit: Int) -> String {
        let total = length(s)
        guard total > limit else { return s }
        let noteLength = length(note(total))
        guard limit > noteLength else { return prefix(s, limit) }
        let kept = safePrefix(s, limit - noteLength)
        return kept + note(total - length(kept))
    }

    /// Lines within `limit`, dropping whole lines from the end when that is enough to fit, and
    /// saying how many were cut; a single line too long for the limit is cut within.
    static func fit(lines: [String], _ limit: Int) -> String {
        let whole = lines.joined(separator: "\n")
        guard length(whole) > limit else { return whole }
        var kept: [String] = []
        var used = 0
        for (i, line) in lines.enumerated() {
            let cost = length(line) + (kept.isEmpty ? 0 : 1)
            let rest = lines[i...].reduce(0) { $0 + length($1) } + (lines.count - i)
            let tail = "\n… \(lines.count - i) more line\(lines.count - i == 1 ? "" : "s") (\(rest) characters) cut"
            if used + cost + length(tail) > limit {
                if kept.isEmpty { return fit(whole, limit) }
                return kept.joined(separator: "\n") + tail
            }
            kept.append(line)
            used += cost
        }
        return fit(whole, limit)
    }

    static func note(_ cut: Int) -> String { "… (\(cut) more characters cut)" }

    /// At most `limit` UTF-16 units of whole Unicode scalars.
    static func prefix(_ s: String, _ limit: Int) -> String {
        var out = String.UnicodeScalarView()
        var used = 0
        for scalar in s.unicodeScalars {
            let w = scalar.utf16.count
            if used + w > limit { break }
            out.append(scalar)
            used += w
        }
        return String(out)
    }

    /// A prefix that does not end inside an escape (`&amp;`, `&lt;`, `&gt;`).
    static func safePrefix(_ s: String, _ limit: Int) -> String {
        let p = prefix(s, limit)
        if let amp = p.lastIndex(of: "&"), !p[amp...].contains(";"), p.distance(from: amp, to: p.endIndex) < 5 {
            return String(p[..<amp])
        }
        return p
    }

    /// Slack's mrkdwn escapes: `&`, `<` and `>`, so that nothing from a spec or an error message
    /// can become a link or a mention (`<!channel>`).
    static func slackEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// A Slack message (Block Kit) within Slack's limits: a section's text at most 3,000 characters,
/// a field 2,000, ten fields a section, 50 blocks a message.
enum SlackMessage {
    static let sectionTextLimit = 3000
    static let fieldLimit = 2000
    static let fieldsPerSection = 10
    static let blockLimit = 50
    /// The notification text (Slack allows more; more would not be read).
    static let textLimit = 3000

    static func payload(_ event: AuditEvent) -> JSONValue {
        let c = AlertContent(event)
        let e = ChatText.slackEscaped
        var blocks: [JSONValue] = []
        let head = "*\(e(c.headline))*" + (c.outcome.map { "\n" + e($0) } ?? "")
        blocks.append(section(ChatText.fit(head, sectionTextLimit)))
        if !c.lines.isEmpty {
            let title = "*\(e(c.linesTitle))*\n"
            let body = ChatText.fit(lines: c.lines.map { "• " + e($0) }, sectionTextLimit - ChatText.length(title))
            blocks.append(section(title + body))
        }
        var facts = c.facts[...]
        while !facts.isEmpty && blocks.count < blockLimit {
            let chunk = facts.prefix(fieldsPerSection)
            facts = facts.dropFirst(chunk.count)
            blocks.append(["type": "section", "fields": .array(chunk.map { f in
                ["type": "mrkdwn", "text": .string(ChatText.fit("*\(e(f.name))*\n\(e(f.value))", fieldLimit))]
            })])
        }
        let text = e(c.headline) + (c.outcome.map { ": " + e($0) } ?? "")
        return ["text": .string(ChatText.fit(text, textLimit)), "blocks": .array(Array(blocks.prefix(blockLimit)))]
    }

    static func section(_ text: String) -> JSONValue {
        ["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]]
    }
}

/// A Discord message within Discord's limits: content 2,000 characters; an embed's title 256,
/// description 4,096, 25 fields of name 256 and value 1,024, and 6,000 in all. Mentions in
/// anything a spec or an error put there never ping anyone (`allowed_mentions: {parse: []}`).
enum DiscordMessage {
    static let contentLimit = 2000
    static let titleLimit = 256
    static let descriptionLimit = 4096
    static let fieldLimit = 25
    static let fieldNameLimit = 256
    static let fieldValueLimit = 1024
    static let embedTotalLimit = 6000

    static func payload(_ event: AuditEvent) -> JSONValue {
        let c = AlertContent(event)
        let title = ChatText.fit(event.eventType.rawValue + (event.deployment.map { " on \($0)" } ?? ""), titleLimit)
        let head = c.outcome.map { $0 + "\n\n" } ?? ""
        let linesTitle = c.lines.isEmpty ? "" : "**\(c.linesTitle)**\n"
        var names = c.facts.prefix(fieldLimit).map { ChatText.fit($0.name, fieldNameLimit) }
        var values = c.facts.prefix(fieldLimit).map { ChatText.fit($0.value.isEmpty ? "-" : $0.value, fieldValueLimit) }
        func description(_ limit: Int) -> String {
            let fixed = ChatText.length(head) + ChatText.length(linesTitle)
            guard !c.lines.isEmpty else { return ChatText.fit(head, limit) }
            return head + linesTitle + ChatText.fit(lines: c.lines.map { "• " + $0 }, max(0, limit - fixed))
        }
        var descriptionLimit = Self.descriptionLimit
        var text = description(descriptionLimit)
        // Within the embed's total: shorten the description first, then the longest field values.
        func total() -> Int {
            ChatText.length(title) + ChatText.length(text) + names.reduce(0) { $0 + ChatText.length($1) } + values.reduce(0) { $0 + ChatText.length($1) }
        }
        while total() > embedTotalLimit {
            let excess = total() - embedTotalLimit
            let longest = values.indices.max { ChatText.length(values[$0]) < ChatText.length(values[$1]) }
            if ChatText.length(text) > 600 {
                descriptionLimit = max(600, ChatText.length(text) - excess)
                text = description(descriptionLimit)
            } else if let i = longest, ChatText.length(values[i]) > 100 {
                values[i] = ChatText.fit(values[i], max(100, ChatText.length(values[i]) - excess))
            } else {
                names = names.map { ChatText.fit($0, 32) }
                text = description(max(0, ChatText.length(text) - excess))
                break
            }
        }
        let fields: [JSONValue] = zip(names, values).map { ["name": .string($0), "value": .string($1), "inline": true] }
        var embed: [String: JSONValue] = ["title": .string(title), "description": .string(text), "fields": .array(fields)]
        if ISO8601.parse(event.eventTime) != nil { embed["timestamp"] = .string(event.eventTime) }
        return [
            "content": .string(ChatText.fit(c.headline, contentLimit)),
            "allowed_mentions": ["parse": []],
            "embeds": [.object(embed)],
        ]
    }
}
