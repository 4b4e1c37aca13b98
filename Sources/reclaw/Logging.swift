import ArgumentParser
import Foundation
import Logging

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
        let time = Self.timestamp()
        let line: String
        switch format {
        case .text:
            let pairs = all.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.text($0.value))" }
            let message = "\(event.message)"
            line = ([time, event.level.rawValue, "\(label):", message] + pairs).joined(separator: " ")
        case .json:
            var object: [String: Any] = ["time": time, "level": event.level.rawValue, "logger": label, "message": "\(event.message)"]
            for (k, v) in all { object[k] = Self.json(v) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static func text(_ value: Logger.MetadataValue) -> String {
        let s = "\(value)"
        return s.contains(" ") || s.isEmpty ? "\"\(s)\"" : s
    }

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return "\(c)"
        case .array(let a): return a.map(json)
        case .dictionary(let d): return d.mapValues(json)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
