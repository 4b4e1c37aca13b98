/// A parsed XML element: enough of XML for AWS's query-protocol responses (no DTDs, no namespaces
/// beyond ignoring prefixes), with helpers for their list shapes.
public struct XMLElement: Sendable, CustomStringConvertible {
    public var name: String
    public var attributes: [String: String]
    public var children: [XMLElement]
    /// The element's own text (concatenated, entities decoded).
    public var text: String

    public init(name: String, attributes: [String: String] = [:], children: [XMLElement] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child with this name.
    public func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// Follows a path of child names.
    public func at(_ path: String...) -> XMLElement? {
        var current: XMLElement? = self
        for p in path { current = current?.child(p) }
        return current
    }

    /// The text of a child, if present.
    public func string(_ name: String) -> String? { child(name)?.text }

    public func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }

    public func bool(_ name: String) -> Bool? { string(name).map { $0 == "true" } }

    /// The entries of a list wrapper: `<name><item>…</item></name>` (EC2) or `<name><member>…</member></name>` (IAM).
    public func list(_ name: String) -> [XMLElement] {
        guard let wrapper = child(name) else { return [] }
        return wrapper.children.filter { $0.name == "item" || $0.name == "member" }
    }

    /// Tags from a `<tagSet>` (EC2) or `<Tags>` (IAM) list.
    public func tags(_ name: String = "tagSet") -> [String: String] {
        var out: [String: String] = [:]
        for item in list(name) {
            if let k = item.string("key") ?? item.string("Key") { out[k] = item.string("value") ?? item.string("Value") ?? "" }
        }
        return out
    }

    public var description: String {
        if children.isEmpty { return "<\(name)>\(text)</\(name)>" }
        return "<\(name)>" + children.map(\.description).joined() + "</\(name)>"
    }

    /// Parses a document; nil when it is not well-formed enough to read.
    public static func parse(_ bytes: [UInt8]) -> XMLElement? {
        var parser = XMLTextParser(bytes: bytes)
        return parser.document()
    }
}

/// A small recursive-descent XML reader. A listing of a region's instances is tens of thousands
/// of elements, so it allocates little per element: names longer than a string keeps inline are
/// made once per document, and the indentation between an element's children is not kept as its
/// text (an element with children keeps its text only when some of it is not whitespace).
private struct XMLTextParser {
    let bytes: [UInt8]
    var i = 0
    var depth = 0
    /// Element names longer than 15 bytes (`networkInterfaceSet`), one string each per document.
    var longNames: [ArraySlice<UInt8>: String] = [:]

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() -> XMLElement? {
        while i < bytes.count {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "<") else { return nil }
            if starts(with: "<?") { skip(past: "?>"); continue }
            if starts(with: "<!--") { skip(past: "-->"); continue }
            if starts(with: "<!") { skip(past: ">"); continue }
            return element()
        }
        return nil
    }

    mutating func element() -> XMLElement? {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200, i < bytes.count, bytes[i] == UInt8(ascii: "<") else { return nil }
        i += 1
        let name = readElementName()
        var attributes: [String: String] = [:]
        while true {
            skipWhitespace()
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "/") {
                i += 2
                return XMLElement(name: name, attributes: attributes)
            }
            if bytes[i] == UInt8(ascii: ">") { i += 1; break }
            let key = readName()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { return nil }
            i += 1
            skipWhitespace()
            guard i < bytes.count else { return nil }
            let quote = bytes[i]
            i += 1
            let start = i
            while i < bytes.count && bytes[i] != quote { i += 1 }
            attributes[key] = Self.decodeEntities(String(decoding: bytes[start..<min(i, bytes.count)], as: UTF8.self))
            i += 1
        }
        var children: [XMLElement] = []
        var text = ""
        while i < bytes.count {
            if starts(with: "</") {
                skip(past: ">")
                if !children.isEmpty && Self.isBlank(text.utf8) { text = "" }
                return XMLElement(name: name, attributes: attributes, children: children, text: text)
            }
            if starts(with: "<![CDATA[") {
                i += 9
                let start = i
                while i < bytes.count && !starts(with: "]]>") { i += 1 }
                text += String(decoding: bytes[start..<min(i, bytes.count)], as: UTF8.self)
                i += 3
                continue
            }
            if starts(with: "<!--") { skip(past: "-->"); continue }
            if bytes[i] == UInt8(ascii: "<") {
                guard let child = element() else { return nil }
                children.append(child)
                continue
            }
            let start = i
            while i < bytes.count && bytes[i] != UInt8(ascii: "<") { i += 1 }
            // Indentation between children: nothing to keep.
            if !children.isEmpty && Self.isBlank(bytes[start..<i]) && Self.isBlank(text.utf8) { continue }
            text += Self.decodeEntities(String(decoding: bytes[start..<i], as: UTF8.self))
        }
        return nil
    }

    static func isBlank<C: Collection<UInt8>>(_ text: C) -> Bool {
        text.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    /// An element's name without its namespace prefix (`soap:Body` is `Body`).
    mutating func readElementName() -> String {
        let start = i
        while i < bytes.count, !Self.nameEnds(bytes[i]) { i += 1 }
        var local = bytes[start..<i]
        if let colon = local.lastIndex(of: UInt8(ascii: ":")) { local = local[(colon + 1)...] }
        guard local.count > 15 else { return String(decoding: local, as: UTF8.self) }
        if let known = longNames[local] { return known }
        let name = String(decoding: local, as: UTF8.self)
        longNames[local] = name
        return name
    }

    static func nameEnds(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "=")
    }

    mutating func readName() -> String {
        let start = i
        while i < bytes.count, !" \t\r\n/>=".utf8.contains(bytes[i]) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    mutating func skipWhitespace() {
        while i < bytes.count, " \t\r\n".utf8.contains(bytes[i]) { i += 1 }
    }

    func starts(with s: StaticString) -> Bool {
        let count = s.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        let u = UnsafeBufferPointer(start: s.utf8Start, count: count)
        for j in 0..<count where bytes[i + j] != u[j] { return false }
        return true
    }

    mutating func skip(past s: StaticString) {
        while i < bytes.count && !starts(with: s) { i += 1 }
        i = min(bytes.count, i + s.utf8CodeUnitCount)
    }

    static func decodeEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { out += rest[amp...]; return out }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) { out.unicodeScalars.append(u) }
                else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) { out.unicodeScalars.append(u) }
                else { out += "&" + entity + ";" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
