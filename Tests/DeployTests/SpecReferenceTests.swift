import Foundation
import ReclawJSON
import ReclawSpec
import Testing

/// docs/spec-reference.md and the JSON Schema `reclaw schema` prints describe the same fields,
/// with the same types, required fields and defaults.
@Suite struct SpecReferenceTests {
    /// One row of the reference's field table.
    struct Row: Equatable, CustomStringConvertible {
        var type: String
        var required: String
        var defaultValue: String
        var description: String { "\(type) | \(required) | \(defaultValue)" }
    }

    /// The rows the schema calls for, by field path.
    static func expectedRows(_ schema: JSONValue, prefix: String = "", required: Set<String> = []) -> [String: Row] {
        var rows: [String: Row] = [:]
        for (name, property) in schema["properties"]?.objectValue ?? [:] {
            let path = prefix + name
            rows[path] = Row(type: typeCell(property), required: required.contains(name) ? "yes" : "no", defaultValue: defaultCell(property["default"]))
            if property["type"] == "object", property["properties"] != nil {
                rows.merge(expectedRows(property, prefix: path + ".", required: Set(property["required"]?.strings ?? [])), uniquingKeysWith: { a, _ in a })
            }
        }
        return rows
    }

    static func typeCell(_ p: JSONValue) -> String {
        if let options = p["anyOf"]?.arrayValue, let value = options.first(where: { $0["type"] != "null" }) {
            return typeCell(value) + ", or null"
        }
        if let values = p["enum"]?.strings, !values.isEmpty { return "one of " + values.map { "`\($0)`" }.joined(separator: ", ") }
        switch p["type"]?.stringValue {
        case "array":
            if let values = p["items"]?["enum"]?.strings { return "list of " + values.map { "`\($0)`" }.joined(separator: ", ") }
            return "list of strings"
        case "object" where p["properties"] == nil: return "mapping of strings"
        case "integer": return "integer, \(p["minimum"]?.intValue ?? 0) to \(p["maximum"]?.intValue ?? 0)"
        case let t: return t ?? "?"
        }
    }

    static func defaultCell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "—"
        case .string(let s)?: return "`\(s)`"
        case .array(let items)?: return "`[" + items.map { $0.stringValue ?? $0.description }.joined(separator: ", ") + "]`"
        case .object?: return "`{}`"
        case let v?: return "`\(v.description)`"
        }
    }

    /// The rows of the reference's table: `| \`path\` | type | required | default | meaning |`.
    static func documentedRows(_ markdown: String) -> [String: Row] {
        var rows: [String: Row] = [:]
        for line in markdown.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 6 else { continue }
            let path = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            guard !path.contains(" "), cells[3] == "yes" || cells[3] == "no" else { continue }
            rows[path] = Row(type: cells[2], required: cells[3], defaultValue: cells[4])
        }
        return rows
    }

    @Test func theReferenceDocumentsEveryFieldOfTheSchemaAndNoOther() throws {
        let schema = try #require(JSONSchemaWriter.document()["definitions"]?[SpecSchema.kind])
        let expected = Self.expectedRows(schema, required: Set(schema["required"]?.strings ?? []))
        let documented = Self.documentedRows(try DeployFiles.text("docs/spec-reference.md"))
        #expect(expected.count == 30)
        #expect(Set(expected.keys).subtracting(documented.keys).isEmpty, "undocumented: \(Set(expected.keys).subtracting(documented.keys).sorted())")
        #expect(Set(documented.keys).subtracting(expected.keys).isEmpty, "not in the schema: \(Set(documented.keys).subtracting(expected.keys).sorted())")
        for (path, row) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(documented[path] == row, "\(path): the reference says \(documented[path].map(\.description) ?? "nothing"), the schema \(row)")
        }
    }

    @Test func theReferencesExampleIsAValidSpec() throws {
        let markdown = try DeployFiles.text("docs/spec-reference.md")
        let start = try #require(markdown.range(of: "```yaml\n"))
        let end = try #require(markdown.range(of: "```", range: start.upperBound..<markdown.endIndex))
        let result = SpecLoader().load([SpecFile(path: "example.yaml", text: String(markdown[start.upperBound..<end.lowerBound]))])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.deployments.map(\.spec.name) == ["alpha"])
    }
}
