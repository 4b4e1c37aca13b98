import ReclawYAML

/// One problem found in a spec file, pointing at its place: `path:line:col: error: message`, or
/// `path: error: message` for a problem with the file as a whole (line and column 0).
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        case error, warning
    }

    public var severity: Severity
    public var file: String
    /// 1-based; 0 when the diagnostic concerns the whole file (it is a link, it cannot be read).
    public var line: Int
    public var column: Int
    /// The message, with control characters escaped: it quotes text from the repository, which
    /// must never reach a terminal or a log as a line break or an escape sequence.
    public var message: String
    /// A stable identifier of the kind of problem (`unknown-key`, `cidr-overlap`, ...).
    public var code: String

    public init(_ severity: Severity, file: String, mark: SourceMark, code: String, _ message: String) {
        self.severity = severity
        self.file = file
        self.line = mark.line
        self.column = mark.column
        self.code = code
        self.message = SafeText.escaped(message)
    }

    /// A diagnostic about a file or path as a whole, with no position in it.
    public init(_ severity: Severity, file: String, code: String, _ message: String) {
        self.init(severity, file: file, mark: SourceMark(line: 0, column: 0), code: code, message)
    }

    public var mark: SourceMark { SourceMark(line: line, column: column) }

    /// Whether the diagnostic points at a place in the file.
    public var hasPosition: Bool { line > 0 }

    /// The place: `file:line:col`, or just `file`; the file name escaped like the message.
    public var place: String {
        let file = SafeText.escaped(file)
        return hasPosition ? "\(file):\(line):\(column)" : file
    }

    public var description: String { "\(place): \(severity.rawValue): \(message)" }
}

/// Text from the repository made safe to print: control characters, line and paragraph
/// separators and bidirectional overrides become visible escapes (`\n`, `\u{1B}`), so a value
/// can neither start a forged log line nor drive the terminal.
public enum SafeText {
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// C0 and C1 controls, DEL, line and paragraph separators, bidirectional formatting.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }

    /// `'text'`, escaped and cut to `limit` characters: how messages quote values from a spec.
    public static func quoted(_ text: String, limit: Int = 80) -> String {
        let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return "'" + escaped(cut) + "'"
    }
}

/// Collects diagnostics for one file.
struct DiagnosticSink {
    let file: String
    var items: [Diagnostic] = []

    mutating func error(_ mark: SourceMark, _ code: String, _ message: String) {
        items.append(Diagnostic(.error, file: file, mark: mark, code: code, message))
    }

    mutating func warning(_ mark: SourceMark, _ code: String, _ message: String) {
        items.append(Diagnostic(.warning, file: file, mark: mark, code: code, message))
    }

    var hasErrors: Bool { items.contains { $0.severity == .error } }
}
