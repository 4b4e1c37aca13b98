/// A YAML input that could not be parsed, with where and why, keeping libyaml's own message.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, stable for tests and for callers that react to it.
    public enum Code: String, Sendable {
        case syntax
        case inputTooLarge
        case nestingTooDeep
        case aliasExpansionTooLarge
        case undefinedAlias
        case invalidEncoding
        case binaryContent
        case tabIndentation
    }

    public var code: Code
    public var message: String
    public var mark: SourceMark?

    public init(code: Code, message: String, mark: SourceMark? = nil) {
        self.code = code
        self.message = message
        self.mark = mark
    }

    public var description: String {
        if let mark { return "\(mark): \(message)" }
        return message
    }
}

/// Bounds that keep a hostile document from exhausting time or memory.
public struct YAMLLimits: Sendable {
    /// Largest input accepted, in bytes.
    public var maxInputBytes: Int
    /// Deepest nesting of collections accepted.
    public var maxDepth: Int
    /// Most nodes a stream may produce, counting every alias as a full copy of what it names.
    public var maxNodes: Int

    public init(maxInputBytes: Int = 1 << 20, maxDepth: Int = 64, maxNodes: Int = 100_000) {
        self.maxInputBytes = maxInputBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    public static let `default` = YAMLLimits()
}
