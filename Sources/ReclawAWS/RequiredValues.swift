import ReclawJSON

extension AWSError {
    /// A successful response without a value reclaw needs, such as the id of what a create call
    /// made. The call took effect, so the error carries its request id.
    public static func malformedResponse(missing: String, service: String, operation: String, region: String,
                                         requestID: String?) -> AWSError {
        AWSError(kind: .decoding, code: "MalformedResponse", message: "the response has no \(missing)",
                 service: service, operation: operation, region: region, requestID: requestID)
    }
}

extension XMLElement {
    /// The request id a query-protocol response carries in its body (EC2's `requestId`, IAM's and STS's `ResponseMetadata`).
    public var requestID: String? { string("requestId") ?? at("ResponseMetadata", "RequestId")?.text }

    /// The non-empty text at `path`; a response without it is a `MalformedResponse` error.
    public func required(_ path: [String], service: String, operation: String, region: String) throws(AWSError) -> String {
        var current: XMLElement? = self
        for name in path { current = current?.child(name) }
        guard let text = current?.text, !text.isEmpty else {
            throw AWSError.malformedResponse(missing: path.joined(separator: "."), service: service, operation: operation,
                                             region: region, requestID: requestID)
        }
        return text
    }
}

extension JSONValue {
    /// The non-empty string at `path`; a response without it is a `MalformedResponse` error.
    public func required(_ path: [String], service: String, operation: String, region: String,
                         requestID: String?) throws(AWSError) -> String {
        var current: JSONValue? = self
        for name in path { current = current?[name] }
        guard let text = current?.stringValue, !text.isEmpty else {
            throw AWSError.malformedResponse(missing: path.joined(separator: "."), service: service, operation: operation,
                                             region: region, requestID: requestID)
        }
        return text
    }
}
