import Foundation
import Testing
@testable import ReclawAWS

/// AWS's SigV4 test suite (Fixtures/aws4_testsuite, Apache-2.0, with its LICENSE and NOTICE).
/// Every case passes, including the three botocore skips (get-space, and the two repeated-key
/// query cases), because reclaw parses the raw request itself and sorts repeated keys by value.
@Suite struct SigV4TestSuiteTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/aws4_testsuite").path

    static let cases: [String] = {
        var out: [String] = []
        let walker = FileManager.default.enumerator(atPath: root)
        while let p = walker?.nextObject() as? String {
            if p.hasSuffix(".req") { out.append(String(p.dropLast(4))) }
        }
        return out.sorted()
    }()

    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    /// Parses a raw `.req` file: request line (the path may hold spaces), folded headers, body.
    static func parse(_ raw: String) -> SignableRequest {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
        let (head, body) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) } ?? (text, "")
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        var target = String(requestLine.dropFirst(method.count + 1))
        if let r = target.range(of: " HTTP/", options: .backwards) { target = String(target[..<r.lowerBound]) }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let (path, queryText) = target.range(of: "?").map { (String(target[..<$0.lowerBound]), String(target[$0.upperBound...])) } ?? (target, "")
        let query: [(String, String)] = queryText.isEmpty ? [] : queryText.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (URIEncoding.decode(String(parts[0])), parts.count > 1 ? URIEncoding.decode(String(parts[1])) : "")
        }
        return SignableRequest(method: method, path: path, query: query, headers: headers, body: Array(body.utf8))
    }

    func read(_ name: String, _ ext: String) throws -> String {
        try String(contentsOfFile: "\(Self.root)/\(name).\(ext)", encoding: .utf8).replacingOccurrences(of: "\r", with: "")
    }

    @Test(arguments: cases)
    func theSignerMatchesAWSsTestCase(name: String) throws {
        var request = Self.parse(try read(name, "req"))
        var credentials = Self.credentials
        let expected = try read(name, "creq")
        // get-vanilla-with-session-token: the signer itself adds (and signs) the token header.
        if request.header("X-Amz-Security-Token") == nil,
           let line = expected.split(separator: "\n").first(where: { $0.hasPrefix("x-amz-security-token:") }) {
            credentials.sessionToken = String(line.dropFirst("x-amz-security-token:".count))
            let date = try #require(ISO8601.parse("2015-08-30T12:36:00Z"))
            var signed = request
            SigV4Signer(credentials: credentials, region: "us-east-1", service: "service").sign(&signed, date: date)
            #expect(signed.header("Authorization") == (try read(name, "authz")))
            request = signed
            request.headers.removeAll { $0.name == "Authorization" }
        }
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let (canonical, _) = signer.canonicalRequest(request)
        #expect(canonical == (try read(name, "creq")))
        let timestamp = try #require(request.header("X-Amz-Date"))
        #expect(signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp) == (try read(name, "sts")))
        #expect(signer.authorization(for: request, timestamp: timestamp) == (try read(name, "authz")))
    }

    @Test func theSuiteHasEveryCase() {
        #expect(Self.cases.count == 34)
    }

    @Test func signingWithASessionTokenAddsAndSignsTheTokenHeader() throws {
        var request = SignableRequest(method: "POST", headers: [("Host", "example.amazonaws.com")])
        var creds = Self.credentials
        creds.sessionToken = Self.token
        let date = try #require(ISO8601.parse("2015-08-30T12:36:00Z"))
        SigV4Signer(credentials: creds, region: "us-east-1", service: "service").sign(&request, date: date)
        #expect(request.header("X-Amz-Security-Token") == Self.token)
        #expect(request.header("Authorization") == (try read("post-sts-token/post-sts-header-before/post-sts-header-before", "authz")))
    }

    @Test func formBodiesAreHashedIntoTheSignature() throws {
        var a = SignableRequest(method: "POST", headers: [("Host", "ec2.us-east-1.amazonaws.com")], body: Array("Action=DescribeVpcs".utf8))
        var b = a
        b.body = Array("Action=DeleteVpc".utf8)
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "ec2")
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        signer.sign(&a, date: date)
        signer.sign(&b, date: date)
        #expect(a.header("Authorization") != b.header("Authorization"))
    }
}
