import Foundation
import ReclawHTTP
import ReclawJSON

/// The wire protocols AWS services speak (query and JSON) over the call loop, and how each one
/// reports an error.
extension AWSClient {
    // MARK: protocols

    /// A query-protocol call (EC2, IAM, STS); returns the response document's root element.
    public func query(_ service: AWSService, _ action: String, region: String, _ params: QueryParams = QueryParams(),
                      context: AWSCallContext = AWSCallContext()) async throws(AWSError) -> XMLElement {
        guard case .query(let version, let ec2) = service.wireProtocol else { preconditionFailure("\(service) is not a query service") }
        var pairs: [(String, String)] = [("Action", action), ("Version", version)]
        pairs += params.pairs
        let body = Array(URIEncoding.form(pairs).utf8)
        let response = try await send(
            service, action, region: region, body: body,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            parameters: Sanitizer.query(service, action, params), named: params.pairs.filter { !$0.0.hasPrefix("Filter.") }.map(\.1), context: context,
            decodeError: { status, bytes in Self.queryError(bytes, ec2: ec2) })
        guard let root = XMLElement.parse(response.body) else {
            throw AWSError(kind: .decoding, code: "MalformedResponse", message: "the response is not XML", httpStatus: response.status,
                           service: service.rawValue, operation: action, region: region, requestID: response.requestID)
        }
        return root
    }

    /// A JSON-protocol call (SSM, CloudTrail, DynamoDB, Resource Groups Tagging).
    public func json(_ service: AWSService, _ operation: String, region: String, _ body: JSONValue = [:],
                     context: AWSCallContext = AWSCallContext()) async throws(AWSError) -> JSONValue {
        try await jsonResponse(service, operation, region: region, body, context: context).value
    }

    /// A JSON-protocol call's response and its request id (from the headers: JSON bodies carry none).
    public func jsonResponse(_ service: AWSService, _ operation: String, region: String, _ body: JSONValue = [:],
                             context: AWSCallContext = AWSCallContext()) async throws(AWSError) -> (value: JSONValue, requestID: String?) {
        guard case .json(let prefix, let version) = service.wireProtocol else { preconditionFailure("\(service) is not a JSON service") }
        let response = try await send(
            service, operation, region: region, body: Array(body.description.utf8),
            headers: [("Content-Type", "application/x-amz-json-\(version)"), ("X-Amz-Target", "\(prefix).\(operation)")],
            parameters: Sanitizer.json(service, operation, body), named: [], context: context,
            decodeError: { status, bytes in Self.jsonError(bytes) })
        if response.body.isEmpty { return ([:], response.requestID) }
        do {
            return (try JSONValue.parse(String(decoding: response.body, as: UTF8.self)), response.requestID)
        } catch {
            throw AWSError(kind: .decoding, code: "MalformedResponse", message: "the response is not JSON", httpStatus: response.status,
                           service: service.rawValue, operation: operation, region: region, requestID: response.requestID)
        }
    }

    // MARK: decoding

    static func hostHeader(_ url: String) -> String {
        guard let r = url.range(of: "://") else { return url }
        return String(url[r.upperBound...].prefix { $0 != "/" })
    }

    static func queryError(_ body: [UInt8], ec2: Bool) -> (code: String, message: String, requestID: String?) {
        guard let root = XMLElement.parse(body) else { return ("UnknownError", String(decoding: body.prefix(200), as: UTF8.self), nil) }
        let error = root.at("Errors", "Error") ?? root.child("Error") ?? root
        return (error.string("Code") ?? "UnknownError", error.string("Message") ?? "", root.string("RequestID") ?? root.string("RequestId"))
    }

    static func jsonError(_ body: [UInt8]) -> (code: String, message: String, requestID: String?) {
        guard let json = try? JSONValue.parse(String(decoding: body, as: UTF8.self)) else {
            return ("UnknownError", String(decoding: body.prefix(200), as: UTF8.self), nil)
        }
        let type = json["__type"]?.stringValue ?? json["code"]?.stringValue ?? "UnknownError"
        let code = String(type.split(separator: "#").last ?? Substring(type))
        let message = json["message"]?.stringValue ?? json["Message"]?.stringValue ?? ""
        return (code, message, nil)
    }

    static func bodyRequestID(_ body: [UInt8]) -> String? {
        guard body.first == UInt8(ascii: "<"), let root = XMLElement.parse(body) else { return nil }
        return root.requestID
    }
}
