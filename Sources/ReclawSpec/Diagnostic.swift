import ReclawYAML

/// One problem found in a spec file, pointing at its place: `path:line:col: error: message`.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        case error, warning
    }

    public var severity: Severity
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    /// A stable identifier of the kind of problem (`unknown-key`, `cidr-overlap`, ...).
    public var code: String

    public init(_ severity: Severity, file: String, mark: SourceMark, code: String, _ message: String) {
        self.severity = severity
        self.file = file
        self.line = mark.line
        self.column = mark.column
        self.code = code
        self.message = message
    }

    public var mark: SourceMark { SourceMark(line: line, column: column) }

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
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
