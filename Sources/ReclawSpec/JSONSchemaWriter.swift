import Foundation

/// Renders `SpecSchema.document` as a JSON Schema (draft-07, which yaml-language-server reads).
/// The schema judges only documents reclaw reads as its own (a conditional on `apiVersion` and
/// `kind`, as `DocumentIdentity` decides); other YAML passes, unless it hides one of reclaw's.
public enum JSONSchemaWriter {
    public static let id = "https://reclaw.dev/schemas/v1alpha1/openclawdeployment.json"

    public static func document() -> JSONValue {
        let deploymentRef: JSONValue = ["$ref": .string("#/definitions/" + SpecSchema.kind)]
        return [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": .string(id),
            "title": .string(SpecSchema.kind),
            "description": .string("A reclaw OpenClaw deployment on AWS (apiVersion \(SpecSchema.apiVersion)); other YAML documents pass, unless they hold one of reclaw's documents inside."),
            "definitions": .object([SpecSchema.kind: deployment(), claimName: claimsToBeReclaws, noHiddenName: noHiddenDocument]),
            "if": ["anyOf": [claimRef, lacksIdentity]],
            "then": deploymentRef,
            "else": ["additionalProperties": noHiddenRef, "items": noHiddenRef],
        ]
    }

    /// The schema of one `OpenClawDeployment` document.
    public static func deployment() -> JSONValue {
        schema(of: SpecSchema.document)
    }

    /// Key rules as JSON Schema: the length, and neither a reserved prefix (in any case) nor a
    /// reserved key, after any leading white space. Patterns stay within what ECMA-262 and
    /// Python's `re` both read.
    static func propertyNames(_ keys: MapKeyRules) -> JSONValue {
        let prefixes = keys.reservedPrefixes.map { prefix in
            prefix.map { c -> String in
                let lower = c.lowercased(), upper = c.uppercased()
                if lower == upper { return NSRegularExpression.escapedPattern(for: String(c)) }
                return "[\(lower)\(upper)]"
            }.joined()
        }
        // Checked on the key without its surrounding white space, as reclaw does (AWS may trim it).
        var rules: [JSONValue] = [["not": ["pattern": .string("^\\s*(" + prefixes.joined(separator: "|") + ")")]]]
        if !keys.reservedKeys.isEmpty {
            let names = keys.reservedKeys.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|")
            rules.append(["not": ["pattern": .string("^\\s*(" + names + ")\\s*$")]])
        }
        if let forbidden = keys.forbiddenCharacters { rules.append(["not": ["pattern": .string(forbidden)]]) }
        return ["minLength": .int(1), "maxLength": .int(keys.maxLength), "allOf": .array(rules)]
    }

    static func schema(of type: SchemaType) -> JSONValue {
        switch type {
        case let .string(pattern, minLength, maxLength, notPattern):
            var o: [String: JSONValue] = ["type": "string"]
            if let pattern { o["pattern"] = .string(pattern) }
            if let notPattern { o["not"] = ["pattern": .string(notPattern)] }
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
        case let .map(value, maxProperties, _, keys):
            // reclaw reads a value as the text written: a plain 5 or true is the tag value "5" or
            // "true", so YAML's numbers and booleans are values too.
            var o: [String: JSONValue] = ["type": "object", "additionalProperties": ["anyOf": [schema(of: value), ["type": ["number", "boolean"]]]]]
            if let maxProperties { o["maxProperties"] = .int(maxProperties) }
            if let keys { o["propertyNames"] = propertyNames(keys) }
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
