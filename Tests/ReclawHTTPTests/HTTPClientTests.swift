import Foundation
import Testing
import ReclawHTTP
import ReclawTestSupport
import ReclawTime

@Suite(.serialized) struct HTTPClientTests {
    let client = HTTPClient()

    private func json(_ r: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }

    @Test func aPostSendsMethodHeadersAndBodyAndReadsTheResponse() async throws {
        let server = try EchoServer()
        let r = try await client.send(HTTPRequest(
            method: "POST", url: server.url + "/echo?x=1",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Amz-Date", "20261125T010203Z")],
            body: Array("Action=DescribeVpcs&Version=2016-11-15".utf8)))
        #expect(r.status == 200)
        #expect(r.header("x-echo") == "yes")
        let echo = try json(r)
        #expect(echo["method"] as? String == "POST")
        #expect(echo["path"] as? String == "/echo?x=1")
        #expect(echo["body"] as? String == "Action=DescribeVpcs&Version=2016-11-15")
        let headers = try #require(echo["headers"] as? [String: String])
        #expect(headers["X-Amz-Date"] == "20261125T010203Z")
        #expect(headers["Expect"] == nil)
    }

    @Test func putAndDeleteUseTheirMethods() async throws {
        let server = try EchoServer()
        for method in ["PUT", "DELETE", "PATCH"] {
            let r = try await client.send(HTTPRequest(method: method, url: server.url + "/echo"))
            #expect(try json(r)["method"] as? String == method)
        }
    }

    @Test func errorStatusesAreResponsesNotErrors() async throws {
        let server = try EchoServer()
        let r = try await client.send(HTTPRequest(url: server.url + "/status/503"))
        #expect(r.status == 503)
        #expect(r.header("X-Status") == "503")
        #expect(r.bodyText == "status 503")
    }

    @Test func connectionsAreReusedAcrossRequests() async throws {
        let server = try EchoServer()
        let first = try await client.send(HTTPRequest(url: server.url + "/echo"))
        let second = try await client.send(HTTPRequest(url: server.url + "/echo"))
        let third = try await client.send(HTTPRequest(method: "POST", url: server.url + "/echo", body: [1, 2, 3]))
        #expect(first.newConnections == 1)
        #expect(second.newConnections == 0)
        #expect(third.newConnections == 0)
    }

    @Test func manyRequestsRunConcurrently() async throws {
        let server = try EchoServer()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { try await client.send(HTTPRequest(url: server.url + "/slow?ms=1000")).status }
            }
            for try await status in group { #expect(status == 200) }
        }
        // Counted at the server: the requests were in progress together, not one after another.
        let seen = try json(try await client.send(HTTPRequest(url: server.url + "/concurrency")))
        #expect((seen["max"] as? Int ?? 0) >= 6)
    }

    @Test func theTotalTimeoutEndsASlowRequestWithCurlsCode() async throws {
        let server = try EchoServer()
        await #expect {
            try await client.send(HTTPRequest(url: server.url + "/slow?ms=3000", timeout: .milliseconds(300)))
        } throws: { error in
            let e = error as! HTTPError
            return e.isTimeout && e.code == 28 && e.message.contains("Timeout")
        }
    }

    @Test func aRequestWhoseDeadlinePassedBeforeItReachedCurlIsNeverSent() async throws {
        let server = try EchoServer()
        // The deadline is read on the caller's clock, which has moved past it (a paused process).
        let clock = ManualClock()
        clock.advance(by: .seconds(10))
        await #expect {
            try await client.send(HTTPRequest(method: "POST", url: server.url + "/record", body: Array("late".utf8), notAfter: .seconds(9), clock: clock))
        } throws: { error in
            (error as? HTTPError)?.isPastDeadline == true
        }
        #expect(!(try await server.records()).contains("late"))
        // One with time left goes, and its deadline bounds the whole exchange.
        _ = try await client.send(HTTPRequest(method: "POST", url: server.url + "/record", body: Array("early".utf8), notAfter: clock.now() + .seconds(30), clock: clock))
        #expect(try await server.records().contains("early"))
        await #expect {
            try await client.send(HTTPRequest(url: server.url + "/slow?ms=3000", notAfter: clock.now() + .milliseconds(300), clock: clock))
        } throws: { error in
            (error as? HTTPError)?.isTimeout == true
        }
    }

    @Test func aRefusedConnectionIsAConnectionError() async throws {
        await #expect {
            try await client.send(HTTPRequest(url: "http://127.0.0.1:9/", connectTimeout: .seconds(2)))
        } throws: { error in
            let e = error as! HTTPError
            return e.isConnectionError && e.code == 7 && e.description.contains("127.0.0.1:9")
        }
    }

    @Test func aDroppedConnectionIsAConnectionError() async throws {
        let server = try EchoServer()
        await #expect {
            try await client.send(HTTPRequest(url: server.url + "/drop"))
        } throws: { ($0 as! HTTPError).isConnectionError }
    }

    @Test func tlsVerificationRefusesAnUntrustedCertificate() async throws {
        let server = try EchoServer(tls: true)
        await #expect {
            try await client.send(HTTPRequest(url: server.url + "/echo"))
        } throws: { error in
            let e = error as! HTTPError
            return e.code == 60 && e.message.lowercased().contains("certificate")
        }
    }

    @Test func errorsNeverCarryThePathOrQuery() async throws {
        await #expect {
            try await client.send(HTTPRequest(url: "http://user:secret@127.0.0.1:9/hooks/T000/B000/XXXX?token=abc"))
        } throws: { error in
            let text = "\(error)"
            return !text.contains("secret") && !text.contains("XXXX") && !text.contains("abc")
        }
    }

    @Test func aCancelledTaskCancelsItsRequest() async throws {
        let server = try EchoServer()
        // A request that ran its course would answer (after 20 s) instead of throwing.
        let task = Task { try await client.send(HTTPRequest(url: server.url + "/slow?ms=20000")) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect { try await task.value } throws: { ($0 as! HTTPError).isCancelled }
    }

    @Test func aTaskCancelledBeforeItsRequestIsSentNeverSendsIt() async throws {
        let server = try EchoServer()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.send(HTTPRequest(url: server.url + "/slow?ms=20000"))
        }
        await #expect { try await task.value } throws: { ($0 as! HTTPError).isCancelled }
    }
}
