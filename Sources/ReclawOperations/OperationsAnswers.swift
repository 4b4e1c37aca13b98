internal import NIOCore
internal import NIOHTTP1

/// An answer decided but not yet written: answers are written in request order, once the client
/// has read enough of those before. A metrics page is rendered only when written, so answers
/// waiting their turn hold no page.
struct Answer {
    enum Content { case text(String), metrics }

    var request: HTTPRequestHead?
    var status: HTTPResponseStatus
    var content: Content
    var contentType = "text/plain; charset=utf-8"
    var extra: [(String, String)] = []
    /// The connection closes once this answer is written.
    var close = false

    /// Whether the connection stays open after this answer: unless `close`, when the client asked.
    var keepAlive: Bool { !close && (request?.isKeepAlive ?? false) }

    /// The response head and, unless the request was HEAD, its body.
    func parts(metrics: Metrics, allocator: ByteBufferAllocator) -> (HTTPResponseHead, ByteBuffer?) {
        let text: String
        switch content {
        case .text(let value): text = value
        case .metrics: text = metrics.render()
        }
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(text.utf8.count)")] + extra)
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request?.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let version = request.map { $0.version.major == 1 && $0.version.minor == 0 ? HTTPVersion.http1_0 : .http1_1 } ?? .http1_1
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        return (head, request?.method == .HEAD ? nil : allocator.buffer(string: text))
    }
}
