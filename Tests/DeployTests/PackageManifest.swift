import Foundation

/// A reading of Package.swift good enough for its own shape: each target's name, directory and
/// declared dependencies (targets by name, products by their product name).
enum PackageManifest {
    struct Target {
        var name: String
        var path: String
        var dependencies: Set<String>
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func targets(_ manifest: String) throws -> [Target] {
        let text = manifest.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line) }
            .joined(separator: "\n")
        let starts = matches(#"\.(target|executableTarget|testTarget|systemLibrary)\(name: "([^"]+)""#, in: text)
        return try starts.enumerated().map { i, start in
            let end = i + 1 < starts.count ? starts[i + 1].range.lowerBound : text.endIndex
            let block = String(text[start.range.lowerBound..<end])
            let kind = start.groups[0], name = start.groups[1]
            let path = matches(#"path: "([^"]+)""#, in: block).first?.groups[0] ?? (kind == "testTarget" ? "Tests/" : "Sources/") + name
            return Target(name: name, path: path, dependencies: try dependencies(block, of: name))
        }
    }

    /// The names in a target's `dependencies: [...]`.
    static func dependencies(_ block: String, of name: String) throws -> Set<String> {
        guard let open = block.range(of: "dependencies: [") else { return [] }
        var depth = 1
        var i = open.upperBound
        while depth > 0 {
            guard i < block.endIndex else { throw Unreadable(description: "the dependencies of \(name) do not end") }
            if block[i] == "[" { depth += 1 } else if block[i] == "]" { depth -= 1 }
            i = block.index(after: i)
        }
        var list = String(block[open.upperBound..<i])
        let products = matches(#"\.product\(name: "([^"]+)"[^)]*\)"#, in: list)
        for product in products.reversed() { list.replaceSubrange(product.range, with: "") }
        return Set(products.map { $0.groups[0] } + matches(#""([^"]+)""#, in: list).map { $0.groups[0] })
    }

    /// The modules a Swift file imports at its top level (not the `import` lines of scripts inside its strings).
    static func imports(_ source: String) -> [String] {
        let pattern = #"^(?:@\w+ +)*(?:(?:internal|public|package|private|fileprivate) +)?import +(?:(?:struct|class|enum|protocol|typealias|func|var|let) +)?(\w+)"#
        return source.split(separator: "\n").compactMap { line in matches(pattern, in: String(line)).first?.groups[0] }
    }

    static func swiftFiles(under directory: String) -> [String] {
        guard let walk = FileManager.default.enumerator(atPath: directory) else { return [] }
        return walk.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map { directory + "/" + $0 }
    }

    struct Match {
        var range: Range<String.Index>
        var groups: [String]
    }

    static func matches(_ pattern: String, in text: String) -> [Match] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            guard let range = Range(m.range, in: text) else { return nil }
            let groups = (1..<m.numberOfRanges).map { Range(m.range(at: $0), in: text).map { String(text[$0]) } ?? "" }
            return Match(range: range, groups: groups)
        }
    }
}
