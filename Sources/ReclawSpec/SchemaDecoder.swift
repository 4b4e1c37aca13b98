import ReclawYAML

/// Checks a YAML node tree against a `SchemaType`: unknown and duplicate keys, wrong types,
/// missing required keys, enumerations, list uniqueness and sizes. Reports every problem it finds
/// and returns what it could decode.
struct SchemaDecoder {
    var sink: DiagnosticSink

    /// Decodes `node`; `keyMark` is where its key was written, where "missing key" errors point.
    mutating func decode(_ node: YAMLNode, as type: SchemaType, path: String, nullable: Bool = false, keyMark: SourceMark? = nil) -> MarkedValue? {
        if let scalar = node.scalar, scalar.isNull, node.tag == nil {
            if nullable { return MarkedValue(value: .null, mark: node.mark) }
            if case .object = type {
                // An empty `key:` is an empty mapping, which must still have its required keys.
                return decode(YAMLNode(content: .mapping([]), mark: node.mark), as: type, path: path, keyMark: keyMark)
            }
            sink.error(node.mark, "wrong-type", "\(path) must be \(type.noun), found null")
            return nil
        }
        switch type {
        case .string(_, let minLength, let maxLength, _):
            guard let s = scalarText(node, path: path, type: type) else { return nil }
            if let maxLength, s.count > maxLength {
                sink.error(node.mark, "too-long", "\(path) is \(s.count) characters long; the limit is \(maxLength)")
            }
            if let minLength, s.count < minLength {
                sink.error(node.mark, "too-short", "\(path) must be at least \(minLength) characters long")
            }
            return MarkedValue(value: .string(s), mark: node.mark)
        case .enumeration(let allowed):
            guard let s = scalarText(node, path: path, type: type) else { return nil }
            guard allowed.contains(s) else {
                let hint = Suggest.closest(s, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
                sink.error(node.mark, "not-allowed", "\(path) must be one of \(allowed.joined(separator: ", ")); found '\(s)'\(hint)")
                return nil
            }
            return MarkedValue(value: .string(s), mark: node.mark)
        case .integer(let minimum, let maximum):
            guard let scalar = node.scalar, scalar.style == .plain, let i = Int(scalar.value.hasPrefix("+") ? String(scalar.value.dropFirst()) : scalar.value) else {
                sink.error(node.mark, "wrong-type", "\(path) must be an integer, found \(describe(node))")
                return nil
            }
            guard (minimum...maximum).contains(i) else {
                sink.error(node.mark, "out-of-range", "\(path) must be between \(minimum) and \(maximum); found \(i)")
                return nil
            }
            return MarkedValue(value: .int(i), mark: node.mark)
        case .boolean:
            guard let scalar = node.scalar, scalar.style == .plain, let b = ["true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false][scalar.value] else {
                let legacy = ["yes", "no", "on", "off", "y", "n"].contains(node.scalar?.value.lowercased() ?? "")
                sink.error(node.mark, "wrong-type", "\(path) must be true or false, found \(describe(node))" + (legacy ? " (YAML 1.1's yes/no/on/off are not accepted)" : ""))
                return nil
            }
            return MarkedValue(value: .bool(b), mark: node.mark)
        case .array(let itemType, let uniqueItems, let maxItems):
            guard let items = node.sequence else {
                sink.error(node.mark, "wrong-type", "\(path) must be a list, found \(describe(node))")
                return nil
            }
            if let maxItems, items.count > maxItems {
                sink.error(node.mark, "too-many", "\(path) has \(items.count) items; at most \(maxItems) are allowed")
            }
            var out: [MarkedValue] = []
            var seen: [String: SourceMark] = [:]
            for (i, item) in items.enumerated() {
                guard let v = decode(item, as: itemType, path: "\(path)[\(i)]") else { continue }
                if uniqueItems, let s = v.string {
                    if let first = seen[s] {
                        sink.error(item.mark, "duplicate-item", "\(path) lists '\(s)' twice (first at \(first))")
                        continue
                    }
                    seen[s] = item.mark
                }
                out.append(v)
            }
            return MarkedValue(value: .array(out), mark: node.mark)
        case .map(let valueType, let maxProperties, let note, _):
            guard let pairs = node.mapping else {
                sink.error(node.mark, "wrong-type", "\(path) must be a mapping, found \(describe(node))")
                return nil
            }
            if let maxProperties, pairs.count > maxProperties {
                sink.error(node.mark, "too-many", "\(path) has \(pairs.count) entries; at most \(maxProperties) are allowed" + (note.map { " (\($0))" } ?? ""))
            }
            var out: [String: MarkedValue] = [:]
            for pair in pairs {
                guard let key = keyText(pair.key, path: path) else { continue }
                if let first = out[key] {
                    sink.error(pair.key.mark, "duplicate-key", "duplicate key '\(key)' in \(path) (first at \(first.keyMark ?? first.mark))")
                    continue
                }
                if var v = decode(pair.value, as: valueType, path: "\(path).\(key)") {
                    v.keyMark = pair.key.mark
                    out[key] = v
                }
            }
            return MarkedValue(value: .object(out), mark: node.mark)
        case .object(let properties):
            guard let pairs = node.mapping else {
                sink.error(node.mark, "wrong-type", "\(path) must be a mapping, found \(describe(node))")
                return nil
            }
            var out: [String: MarkedValue] = [:]
            var keyMarks: [String: SourceMark] = [:]
            // A misspelled key is reported once, as unknown with its suggestion, not again as the
            // required key it was meant to be.
            var suggested: Set<String> = []
            let byName = Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0) })
            for pair in pairs {
                guard let key = keyText(pair.key, path: path) else { continue }
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if let first = keyMarks[key] {
                    sink.error(pair.key.mark, "duplicate-key", "duplicate key '\(key)' in \(path.isEmpty ? "the document" : path) (first at \(first))")
                    continue
                }
                keyMarks[key] = pair.key.mark
                guard let property = byName[key] else {
                    let names = properties.map(\.name)
                    let suggestion = Suggest.closest(key, in: names)
                    if let suggestion { suggested.insert(suggestion) }
                    let hint = suggestion.map { "did you mean '\($0)'?" } ?? "expected one of: \(names.joined(separator: ", "))"
                    sink.error(pair.key.mark, "unknown-key", "unknown key '\(key)' in \(path.isEmpty ? "the document" : path); \(hint)")
                    continue
                }
                if var v = decode(pair.value, as: property.type, path: childPath, nullable: property.nullable, keyMark: pair.key.mark) {
                    v.keyMark = pair.key.mark
                    out[key] = v
                }
            }
            for property in properties where property.required && keyMarks[property.name] == nil && !suggested.contains(property.name) {
                sink.error(keyMark ?? node.mark, "missing-key", "\(path.isEmpty ? "the document" : path) is missing the required key '\(property.name)'")
            }
            return MarkedValue(value: .object(out), mark: node.mark)
        }
    }

    private mutating func scalarText(_ node: YAMLNode, path: String, type: SchemaType) -> String? {
        guard let scalar = node.scalar else {
            sink.error(node.mark, "wrong-type", "\(path) must be \(type.noun), found \(describe(node))")
            return nil
        }
        return scalar.value
    }

    private mutating func keyText(_ node: YAMLNode, path: String) -> String? {
        guard let scalar = node.scalar else {
            sink.error(node.mark, "wrong-type", "keys in \(path.isEmpty ? "the document" : path) must be strings, found \(describe(node))")
            return nil
        }
        return scalar.value
    }

    private func describe(_ node: YAMLNode) -> String {
        switch node.content {
        case .scalar(let s):
            if s.isNull { return "null" }
            let shown = s.value.count > 40 ? String(s.value.prefix(40)) + "…" : s.value
            return s.style == .plain ? "'\(shown)'" : "the string \"\(shown)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

/// "Did you mean" suggestions by edit distance.
enum Suggest {
    static func closest(_ word: String, in candidates: [String]) -> String? {
        let lower = word.lowercased()
        if let same = candidates.first(where: { $0.lowercased() == lower }) { return same }
        let scored = candidates.map { ($0, distance(lower, $0.lowercased())) }.filter { $0.1 <= max(2, word.count / 4) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
