/// A key file given with `--allowed-signers` or `--trusted-keys` that reclaw cannot use: a
/// start-up error naming the file and line.
public struct SignatureConfigError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file cannot be read.
        case unreadable
        /// A line does not follow the file's format.
        case malformed
        /// An `allowed_signers` option or principal pattern reclaw does not honour.
        case unsupportedOption
        /// A key type reclaw does not verify.
        case unsupportedKey
        /// The file holds no key at all.
        case empty
    }

    public var code: Code
    public var file: String
    /// 1-based; nil when the error is about the whole file.
    public var line: Int?
    public var message: String

    public init(_ code: Code, file: String, line: Int? = nil, _ message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}
