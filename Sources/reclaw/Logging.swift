import ArgumentParser
import Foundation
import Logging
import ReclawEngine
import ReclawJSON
import ReclawSpec
import ReclawTime

/// Options every subcommand accepts: how much to log and in which format.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Least severe level logged: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log line format: text or json (one JSON object per line).")
    var logFormat: LogFormat = .text

    /// Installs the process's log handler; call once, first.
    func bootstrap() {
        let level = logLevel
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler = ReclawLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }

    func logger(_ label: String = "reclaw") -> Logger {
        Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The two log line formats.
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

/// Writes log lines to standard error, as text (`time level label: message key=value`) or as one
/// JSON object per line with the metadata's dotted keys at the top level.
///
/// Messages and values often quote the repository (names, paths, YAML), so nothing in them may
/// forge a line or drive the terminal: in text, control characters are escaped (`\n`, `\u{1B}`),
/// values with spaces, `=`, quotes or escapes are quoted, and a message's own line breaks (a plan
/// block) continue on lines indented by two spaces, which no log line starts with. JSON escapes
/// them as JSON does, C1 controls and line separators included.
struct ReclawLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogFormat) {
        self.label = label
        self.format = format
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        FileHandle.standardError.write(Data((render(level: event.level, message: "\(event.message)", metadata: all, time: Self.timestamp()) + "\n").utf8))
    }

    /// One record. A block of lines (`PlanLog.blockKey`, a plan) follows a text record's first
    /// line, which carries the metadata, so the block's last line is the block's own; a JSON record
    /// leaves the block out and nests structured values (`PlanLog.planKey`) as JSON.
    func render(level: Logger.Level, message: String, metadata all: Logger.Metadata, time: String) -> String {
        var all = all
        let block = all.removeValue(forKey: PlanLog.blockKey)
        switch format {
        case .text:
            all[PlanLog.planKey] = nil
            let pairs = all.sorted { $0.key < $1.key }.map { "\(Self.value($0.key))=\(Self.value("\($0.value)"))" }
            let line = ([time, level.rawValue, "\(SafeText.escaped(label)):", Self.message(message)] + pairs).joined(separator: " ")
            guard let block, !"\(block)".isEmpty else { return line }
            return line + "\n  " + Self.message("\(block)")
        case .json:
            var object: [String: Any] = ["time": time, "level": level.rawValue, "logger": label, "message": message]
            for (k, v) in all { object[k] = Self.json(v) }
            return Self.jsonLine(object)
        }
    }

    /// A message in a text line: escaped, its own line breaks continued on indented lines.
    static func message(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escaped(String($0)) }.joined(separator: "\n  ")
    }

    /// A key or value in a text line: bare when it is plain, else quoted with `\"`, `\\` and
    /// control characters escaped.
    static func value(_ s: String) -> String {
        let plain = !s.isEmpty && !s.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || SafeText.needsEscape($0) }
        if plain { return s }
        let inner = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + SafeText.escaped(inner) + "\""
    }

    /// One JSON object on one line; characters JSON may leave raw but a terminal acts on (DEL, C1
    /// controls, line separators, bidirectional overrides) are escaped too.
    static func jsonLine(_ object: [String: Any]) -> String {
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            return #"{"level":"error","message":"a log line could not be encoded as JSON"}"#
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.unicodeScalars.contains(where: SafeText.needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if SafeText.needsEscape(scalar) {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c as JSONValue): return foundation(c)
        case .stringConvertible(let c): return "\(c)"
        case .array(let a): return a.map(json)
        case .dictionary(let d): return d.mapValues(json)
        }
    }

    /// A JSON value as JSONSerialization takes it, numbers and booleans kept.
    static func foundation(_ v: JSONValue) -> Any {
        switch v {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(foundation)
        case .object(let o): return o.mapValues(foundation)
        }
    }

    private static func timestamp() -> String {
        Clocks.date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
