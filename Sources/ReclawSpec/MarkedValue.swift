import ReclawYAML

/// A schema-checked value from a spec document, with where its value and its key were written.
public struct MarkedValue: Sendable {
    public indirect enum Value: Sendable {
        case null
        case string(String)
        case int(Int)
        case bool(Bool)
        case array([MarkedValue])
        case object([String: MarkedValue])
    }

    public var value: Value
    /// Where the value starts.
    public var mark: SourceMark
    /// Where its key starts, for values inside a mapping.
    public var keyMark: SourceMark?

    public subscript(key: String) -> MarkedValue? {
        if case .object(let o) = value { return o[key] }
        return nil
    }

    /// Follows a dotted path of object keys.
    public func at(_ path: String) -> MarkedValue? {
        var current: MarkedValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

    public var string: String? {
        if case .string(let s) = value { return s }
        return nil
    }

    public var int: Int? {
        if case .int(let i) = value { return i }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }

    public var array: [MarkedValue]? {
        if case .array(let a) = value { return a }
        return nil
    }

    public var object: [String: MarkedValue]? {
        if case .object(let o) = value { return o }
        return nil
    }

    public var isNull: Bool {
        if case .null = value { return true }
        return false
    }
}
