import ReclawEngine
import ReclawJSON

/// Attributes by their typed key, so a driver or the observer never spells a name the graph
/// builder spelled.
extension DesiredComponent {
    public subscript(_ key: AttributeKey) -> DesiredAttribute? {
        get { attributes[key.rawValue] }
        set { attributes[key.rawValue] = newValue }
    }
}

extension ObservedResource {
    public subscript(_ key: AttributeKey) -> JSONValue? {
        get { attributes[key.rawValue] }
        set { attributes[key.rawValue] = newValue }
    }

    /// A resource observed with typed attributes.
    public init(key: ComponentKey, kind: ResourceKind, id: String, typed attributes: [AttributeKey: JSONValue], tags: [String: String] = [:],
                details: [String: JSONValue] = [:]) {
        self.init(key: key, kind: kind, id: id, attributes: Dictionary(uniqueKeysWithValues: attributes.map { ($0.key.rawValue, $0.value) }),
                  tags: tags, details: details)
    }
}

extension Set<String> {
    /// Whether a set of changed attribute names holds an attribute.
    public func contains(_ key: AttributeKey) -> Bool { contains(key.rawValue) }
}
