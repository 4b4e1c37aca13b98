import Foundation

/// One line of an OpenSSH `allowed_signers` file (ssh-keygen(1), "ALLOWED SIGNERS").
struct AllowedSigner: Sendable {
    var principals: [String]
    var key: SSHPublicKey
    /// The `namespaces` option; nil when absent (every namespace).
    var namespaces: [String]?
    var validAfter: Date?
    var validBefore: Date?
    /// Where the entry is, for messages.
    var line: Int

    /// Whether the entry allows signatures in `namespace`.
    func allows(namespace: String) -> Bool {
        namespaces.map { $0.contains(namespace) || $0.contains("*") } ?? true
    }

    /// Whether the key is valid at `date`.
    func isValid(at date: Date) -> Bool {
        if let validAfter, date < validAfter { return false }
        if let validBefore, date >= validBefore { return false }
        return true
    }
}

/// An `allowed_signers` file: the SSH keys whose commit signatures reclaw accepts. Options
/// reclaw does not honour (`cert-authority`, principal wildcards) are errors, never ignored.
public struct AllowedSigners: Sendable {
    let entries: [AllowedSigner]
    public let file: String

    /// Reads and parses `file`.
    public init(contentsOf file: String) throws(SignatureConfigError) {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SignatureConfigError(.unreadable, file: file, "cannot be read: \((error as NSError).localizedDescription)")
        }
        try self.init(text: text, file: file)
    }

    init(text: String, file: String) throws(SignatureConfigError) {
        self.file = file
        var entries: [AllowedSigner] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            entries.append(try Self.entry(line, number: index + 1, file: file))
        }
        guard !entries.isEmpty else { throw SignatureConfigError(.empty, file: file, "lists no signer") }
        self.entries = entries
    }

    /// The entries for `key`, in file order.
    func entries(for key: SSHPublicKey) -> [AllowedSigner] {
        entries.filter { $0.key.blob == key.blob }
    }

    private static func entry(_ line: String, number: Int, file: String) throws(SignatureConfigError) -> AllowedSigner {
        func fail(_ code: SignatureConfigError.Code, _ message: String) -> SignatureConfigError {
            SignatureConfigError(code, file: file, line: number, message)
        }
        var words = split(line)
        guard words.count >= 3 else { throw fail(.malformed, "expected principals, options (optional), key type and key") }
        let principals = unquote(words.removeFirst()).split(separator: ",").map(String.init)
        for p in principals where p.isEmpty || p.contains(where: { "*?!".contains($0) }) {
            throw fail(.unsupportedOption, "principal pattern '\(p)' is not supported: name each signer without wildcards or negation")
        }
        var options: [(String, String?)] = []
        if !SSHPublicKey.isKeyType(words[0]) {
            options = try parseOptions(words.removeFirst()) { fail(.malformed, $0) }
        }
        guard words.count >= 2 else { throw fail(.malformed, "expected a key type and a base64 key") }
        let type = words[0]
        if let why = SSHPublicKey.unsupported(type) { throw fail(.unsupportedKey, why) }
        guard let data = Data(base64Encoded: words[1]) else { throw fail(.malformed, "the key is not valid base64") }
        let key: SSHPublicKey
        do { key = try SSHPublicKey(blob: Array(data)) } catch { throw fail(.unsupportedKey, error.description) }
        guard key.type == type else { throw fail(.malformed, "the key is a \(key.type) key, the line says \(type)") }
        var signer = AllowedSigner(principals: principals, key: key, line: number)
        for (name, value) in options {
            switch name.lowercased() {
            case "namespaces":
                guard let value else { throw fail(.malformed, "namespaces needs a value, such as namespaces=\"git\"") }
                signer.namespaces = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case "valid-after", "valid-before":
                guard let value, let date = OpenSSHTime.parse(value) else {
                    throw fail(.malformed, "\(name) needs a time as YYYYMMDD[HHMM[SS]][Z]")
                }
                if name.lowercased() == "valid-after" { signer.validAfter = date } else { signer.validBefore = date }
            default:
                throw fail(.unsupportedOption, "option '\(name)' is not supported (reclaw honours namespaces, valid-after and valid-before)")
            }
        }
        return signer
    }

    /// Whitespace-separated words; double quotes keep spaces inside a word.
    static func split(_ line: String) -> [String] {
        var words: [String] = [], current = "", quoted = false
        for c in line {
            if c == "\"" { quoted.toggle(); current.append(c) } else if c.isWhitespace && !quoted {
                if !current.isEmpty { words.append(current); current = "" }
            } else { current.append(c) }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    private static func unquote(_ s: String) -> String {
        s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") ? String(s.dropFirst().dropLast()) : s
    }

    /// `name[="value"]` items separated by commas outside quotes.
    private static func parseOptions(_ text: String, _ fail: (String) -> SignatureConfigError) throws(SignatureConfigError) -> [(String, String?)] {
        var items: [String] = [], current = "", quoted = false
        for c in text {
            if c == "\"" { quoted.toggle() }
            if c == "," && !quoted { items.append(current); current = "" } else { current.append(c) }
        }
        if quoted { throw fail("an option's quotes are not closed") }
        items.append(current)
        return items.map { item in
            guard let eq = item.firstIndex(of: "=") else { return (item, nil) }
            return (String(item[..<eq]), unquote(String(item[item.index(after: eq)...])))
        }
    }
}

/// Times as `allowed_signers` writes them: `YYYYMMDD[HHMM[SS]]`, UTC with a trailing `Z`, local
/// time otherwise.
enum OpenSSHTime {
    static func parse(_ text: String) -> Date? {
        var digits = text
        var zone = TimeZone.current
        if digits.hasSuffix("Z") || digits.hasSuffix("z") {
            digits.removeLast()
            zone = TimeZone(identifier: "UTC")!
        }
        guard [8, 12, 14].contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        let n = Array(digits).map { Int(String($0))! }
        func number(_ from: Int, _ count: Int) -> Int { n[from..<from + count].reduce(0) { $0 * 10 + $1 } }
        var parts = DateComponents(year: number(0, 4), month: number(4, 2), day: number(6, 2), hour: 0, minute: 0, second: 0)
        if digits.count >= 12 { parts.hour = number(8, 2); parts.minute = number(10, 2) }
        if digits.count == 14 { parts.second = number(12, 2) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard parts.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: parts)
    }
}
