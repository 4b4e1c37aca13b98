import Foundation
import ReclawDaemon
import ReclawHTTP
import ReclawOperations
import ReclawTestSupport
import Testing

/// A client that pipelines requests and never reads the answers holds a bounded number of them in
/// the daemon: the endpoint stops reading it, keeps answering others, and resumes once it reads.
extension OperationsEndpointTests {
    @Test func aClientThatPipelinesWithoutReadingIsNoLongerReadWhileOtherClientsAreStillAnswered() async throws {
        let metrics = Metrics()
        let limits = OperationsLimits()
        try await withServer(limits: limits, metrics: metrics) { port, _ in
            let request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            let count = 20_000
            let client = try RawConnection(port)
            // The whole pipeline may not fit in the kernel's buffers once the server stops reading:
            // it is sent on its own thread, and finishes once the client reads.
            async let sent = Command.offThread { client.send(String(repeating: request, count: count)) }

            // Nothing below throws before the client reads: an early exit would leave the sender blocked.
            var paused = 0.0
            var unanswered = 0.0
            var pages = 0
            for _ in 0..<600 where paused < 1 {
                try? await Task.sleep(for: .milliseconds(100))
                guard let page = try? await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics", timeout: .seconds(20))),
                      page.status == 200 else { continue }
                pages += 1
                paused = Self.value(of: "reclaw_http_reads_paused_total", in: page.bodyText)
                unanswered = Self.value(of: "reclaw_http_unanswered_requests", in: page.bodyText)
            }
            #expect(pages > 0, "another client was not answered")
            #expect(paused >= 1, "the endpoint never stopped reading a client that reads nothing")
            // Reading stops at `maxUnansweredRequests`; one read adds at most the requests it holds,
            // and the page just read was one more.
            let bound = limits.maxUnansweredRequests + limits.maxReadBytes / request.utf8.count + 2
            #expect(unanswered <= Double(bound), "\(unanswered) answers held; at most \(bound) expected")

            let statuses = try await Command.offThread { Self.readResponses(client, count: count, timeout: 300) }
            let whole = try await sent
            #expect(whole, "the client could not send its whole pipeline once it read")
            #expect(statuses.count == count, "\(statuses.count) whole answers of \(count)")
            #expect(statuses.allSatisfy { $0 == 200 })
        }
    }

    /// A sample's value in a Prometheus page (0 when absent).
    static func value(of name: String, in page: String) -> Double {
        for line in page.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }

    /// Reads `count` whole answers (each head and its Content-Length of body) and returns their
    /// statuses; fewer if the connection ends, an answer is malformed, or `timeout` seconds pass.
    static func readResponses(_ connection: RawConnection, count: Int, timeout: TimeInterval) -> [Int] {
        var statuses: [Int] = []
        var data: [UInt8] = []
        var start = 0
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = Date().addingTimeInterval(timeout)
        while statuses.count < count, deadline.timeIntervalSinceNow > 0 {
            // Take every whole answer already read.
            while let end = data[start...].firstRange(of: separator) {
                guard let response = RawResponse(Array(data[start..<end.upperBound]), bodyless: true),
                      let length = response.headers["content-length"].flatMap(Int.init) else { return statuses + [-1] }
                guard data.count - end.upperBound >= length else { break }
                statuses.append(response.status)
                start = end.upperBound + length
            }
            if start > 1 << 20 {
                data.removeFirst(start)
                start = 0
            }
            if statuses.count == count { break }
            var p = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 1000) > 0 else { continue }
            let n = recv(connection.fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return statuses
    }
}
