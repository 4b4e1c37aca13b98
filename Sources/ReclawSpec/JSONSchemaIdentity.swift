/// Which documents the JSON Schema judges, after `DocumentIdentity` and `HiddenSpec`: a mapping
/// with reclaw's `kind` in any case or an `apiVersion` of reclaw's group is reclaw's, and so is a
/// top-level mapping with `metadata` and `spec` but neither `apiVersion` nor `kind`. JSON Schema
/// cannot measure edit distance: near misses by a letter or two are left to `reclaw validate`.
extension JSONSchemaWriter {
    static let claimName = "reclawDocument"
    static let noHiddenName = "noHiddenReclawDocument"
    static let claimRef: JSONValue = ["$ref": .string("#/definitions/" + claimName)]
    static let noHiddenRef: JSONValue = ["$ref": .string("#/definitions/" + noHiddenName)]

    /// `text` in any case, as a pattern both ECMA-262 and Python read.
    static func anyCase(_ text: String) -> String {
        text.map { c -> String in
            let lower = c.lowercased(), upper = c.uppercased()
            if lower == upper { return c == "." ? "\\." : String(c) }
            return "[\(lower)\(upper)]"
        }.joined()
    }

    /// reclaw.dev, any subdomain of it, or reclaw.anything, before the `/` or the end.
    static var groupPattern: String {
        let reclaw = anyCase("reclaw"), group = anyCase(DocumentIdentity.group)
        return "^(([^/]*\\.)?\(group)|\(reclaw)(\\.[^/]*)?)(/|$)"
    }

    /// A mapping that says it is reclaw's, as `HiddenSpec.claimsToBeReclaws` decides.
    static var claimsToBeReclaws: JSONValue {
        ["type": "object", "anyOf": [
            ["required": ["kind"], "properties": ["kind": ["type": "string", "pattern": .string("^" + anyCase(SpecSchema.kind) + "$")]]],
            ["required": ["apiVersion"], "properties": ["apiVersion": ["type": "string", "pattern": .string(groupPattern)]]],
        ]]
    }

    /// A top-level mapping that looks like a deployment without saying whose it is.
    static var lacksIdentity: JSONValue {
        let scalar: JSONValue = ["not": ["type": ["object", "array"]]]
        return ["type": "object", "required": ["metadata", "spec"], "not": ["anyOf": [
            ["required": ["kind"], "properties": ["kind": scalar]],
            ["required": ["apiVersion"], "properties": ["apiVersion": scalar]],
        ]]]
    }

    /// A value that neither is nor holds, at any depth, a mapping claiming to be reclaw's.
    static var noHiddenDocument: JSONValue {
        ["not": claimRef, "additionalProperties": noHiddenRef, "items": noHiddenRef]
    }
}
