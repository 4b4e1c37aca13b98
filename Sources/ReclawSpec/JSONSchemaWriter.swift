/// Renders `SpecSchema.document` as a JSON Schema (draft-07, which yaml-language-server reads).
public enum JSONSchemaWriter {
    public static let id = "https://reclaw.dev/schemas/v1alpha1/openclawdeployment.json"

    public static func document() -> JSONValue {
        guard case .object(var root) = schema(of: SpecSchema.document) else { return .null }
        root["$schema"] = "http://json-schema.org/draft-07/schema#"
        root["$id"] = .string(id)
        root["title"] = .string(SpecSchema.kind)
        root["description"] = .string("A reclaw OpenClaw deployment on AWS (apiVersion \(SpecSchema.apiVersion)).")
        return .object(root)
    }

    static func schema(of type: SchemaType) -> JSONValue {
        switch type {
        case let .string(pattern, minLength, maxLength):
            var o: [String: JSONValue] = ["type": "string"]
            if let pattern { o["pattern"] = .string(pattern) }
            if let minLength { o["minLength"] = .int(minLength) }
            if let maxLength { o["maxLength"] = .int(maxLength) }
            return .object(o)
        case let .integer(minimum, maximum):
            return ["type": "integer", "minimum": .int(minimum), "maximum": .int(maximum)]
        case .boolean:
            return ["type": "boolean"]
        case .enumeration(let values):
            return ["type": "string", "enum": .array(values.map { .string($0) })]
        case let .array(item, uniqueItems, maxItems):
            var o: [String: JSONValue] = ["type": "array", "items": schema(of: item), "uniqueItems": .bool(uniqueItems)]
            if let maxItems { o["maxItems"] = .int(maxItems) }
            return .object(o)
        case let .map(value, maxProperties, _):
            var o: [String: JSONValue] = ["type": "object", "additionalProperties": schema(of: value)]
            if let maxProperties { o["maxProperties"] = .int(maxProperties) }
            return .object(o)
        case .object(let properties):
            var props: [String: JSONValue] = [:]
            for p in properties {
                guard case .object(var s) = schema(of: p.type) else { continue }
                s["description"] = .string(p.description)
                if let d = p.defaultValue { s["default"] = d }
                if p.nullable {
                    props[p.name] = ["anyOf": [.object(s), ["type": "null"]], "description": .string(p.description)]
                } else {
                    props[p.name] = .object(s)
                }
            }
            var o: [String: JSONValue] = ["type": "object", "properties": .object(props), "additionalProperties": false]
            let required = properties.filter(\.required).map { JSONValue.string($0.name) }
            if !required.isEmpty { o["required"] = .array(required) }
            return .object(o)
        }
    }
}
