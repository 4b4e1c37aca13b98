/// The shape of a spec document, described once: the decoder checks documents against it and
/// `reclaw schema` prints it as JSON Schema, so the two cannot disagree.
public indirect enum SchemaType: Sendable {
    /// A string; `pattern` and `notPattern` are checked by `SpecValidator` with messages of their
    /// own, and printed in the JSON Schema.
    case string(pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil, notPattern: String? = nil)
    case integer(minimum: Int, maximum: Int)
    case boolean
    case enumeration([String])
    case array(SchemaType, uniqueItems: Bool = true, maxItems: Int? = nil)
    /// A mapping from string keys to values of one type (tags); `note` explains the limit.
    case map(SchemaType, maxProperties: Int? = nil, note: String? = nil, keys: MapKeyRules? = nil)
    case object([SchemaProperty])

    /// A word for the type, for error messages.
    var noun: String {
        switch self {
        case .string, .enumeration: return "a string"
        case .integer: return "an integer"
        case .boolean: return "true or false"
        case .array: return "a list"
        case .map, .object: return "a mapping"
        }
    }
}

/// One key of an object in the schema.
public struct SchemaProperty: Sendable {
    public var name: String
    public var type: SchemaType
    public var required: Bool
    /// Whether `null` is accepted (meaning: not set).
    public var nullable: Bool
    public var defaultValue: JSONValue?
    public var description: String

    public init(_ name: String, _ type: SchemaType, required: Bool = false, nullable: Bool = false,
                default defaultValue: JSONValue? = nil, _ description: String) {
        self.name = name
        self.type = type
        self.required = required
        self.nullable = nullable
        self.defaultValue = defaultValue
        self.description = description
    }
}

/// Rules for the keys of a `.map` (tag keys), checked by `SpecValidator` and printed in the JSON
/// Schema as `propertyNames`.
public struct MapKeyRules: Sendable {
    /// Prefixes no key may start with, in any case.
    public var reservedPrefixes: [String]
    /// Keys that may not be used at all.
    public var reservedKeys: [String]
    public var maxLength: Int
    /// A pattern matching any character a key may not hold, for the JSON Schema (an approximation
    /// where `SpecValidator` checks more; docs/spec-reference.md lists where).
    public var forbiddenCharacters: String?

    public init(reservedPrefixes: [String], reservedKeys: [String], maxLength: Int, forbiddenCharacters: String? = nil) {
        self.reservedPrefixes = reservedPrefixes
        self.reservedKeys = reservedKeys
        self.maxLength = maxLength
        self.forbiddenCharacters = forbiddenCharacters
    }
}
