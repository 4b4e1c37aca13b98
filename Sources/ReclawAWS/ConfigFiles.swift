import Foundation

/// The shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`), as profiles.
public struct AWSConfigFiles: Sendable {
    /// Settings by profile name; the config file's `[profile x]` and the credentials file's `[x]` merged.
    public var profiles: [String: [String: String]]

    public init(environment: AWSEnvironment) {
        var merged: [String: [String: String]] = [:]
        for (name, settings) in Self.parse(Self.read(environment.configFile)) {
            let profile = name == "default" ? "default" : (name.hasPrefix("profile ") ? String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) : nil)
            guard let profile else { continue }
            merged[profile, default: [:]].merge(settings) { _, new in new }
        }
        // The credentials file wins for keys it sets.
        for (name, settings) in Self.parse(Self.read(environment.credentialsFile)) {
            merged[name, default: [:]].merge(settings) { _, new in new }
        }
        profiles = merged
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// INI sections and `key = value` lines; comments start with # or ;; indented lines (nested
    /// service settings) are ignored.
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                current = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if let c = current, sections[c] == nil { sections[c] = [:] }
                continue
            }
            guard let section = current, !line.hasPrefix(" "), !line.hasPrefix("\t"), let eq = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let hash = value.range(of: " #") ?? value.range(of: " ;") { value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces) }
            sections[section]?[key] = value
        }
        return sections
    }
}
