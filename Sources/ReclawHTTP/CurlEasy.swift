internal import CCurl
internal import CCurlShim
import ReclawTime

/// Owns one curl easy handle and what it points to (header list, error buffer, response buffers).
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    let host: String
    /// See `HTTPRequest.notAfter`.
    let notAfter: Duration?
    let clock: any TimeSource
    let timeout: Duration
    var status = 0
    var responseHeaders: [(name: String, value: String)] = []
    var responseBody: [UInt8] = []

    init(request: HTTPRequest) throws(HTTPError) {
        host = Self.hostPart(of: request.url)
        notAfter = request.notAfter
        clock = request.clock
        timeout = request.timeout
        guard let h = curl_easy_init() else {
            errorBuffer.deallocate()
            throw HTTPError(code: 2, message: "curl_easy_init failed", host: host)
        }
        handle = h
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try configure(request)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    /// Shortens the transfer's whole timeout to what is left before `notAfter`; false when nothing
    /// is left (then the transfer must not start). Called on the loop thread, as it is added.
    func fitDeadline() -> Bool {
        guard let notAfter else { return true }
        let left = notAfter - clock.now()
        guard left > .milliseconds(1) else { return false }
        return reclaw_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(min(timeout, left))) == CURLE_OK
    }

    private func configure(_ r: HTTPRequest) throws(HTTPError) {
        try check(reclaw_curl_easy_setopt_string(handle, CURLOPT_URL, r.url))
        try check(reclaw_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(r.connectTimeout)))
        try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(r.timeout)))
        try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        let method = r.method.uppercased()
        switch method {
        case "GET" where r.body.isEmpty:
            try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD":
            try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1))
        default:
            if method != "POST" {
                try check(reclaw_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method))
            }
            try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_POST, 1))
            try check(reclaw_curl_easy_setopt_long(handle, CURLOPT_POSTFIELDSIZE, r.body.count))
            try r.body.withUnsafeBufferPointer { (buf) throws(HTTPError) in
                // COPYPOSTFIELDS makes curl keep its own copy of the body.
                let empty: [CChar] = [0]
                if let base = buf.baseAddress, !buf.isEmpty {
                    try check(reclaw_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base)))
                } else {
                    try empty.withUnsafeBufferPointer { (e) throws(HTTPError) in
                        try check(reclaw_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: e.baseAddress!)))
                    }
                }
            }
        }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // No "Expect: 100-continue" round trip; no default content type we did not ask for.
        var names = Set<String>()
        for (name, value) in r.headers {
            names.insert(name.lowercased())
            list = curl_slist_append(list, "\(name): \(value)")
        }
        if !names.contains("expect") { list = curl_slist_append(list, "Expect:") }
        if !names.contains("content-type") && method != "GET" { list = curl_slist_append(list, "Content-Type:") }
        if !names.contains("accept") { list = curl_slist_append(list, "Accept:") }
        headerList = list
        try check(reclaw_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list))

        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(reclaw_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me))
        try check(reclaw_curl_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, { ptr, size, count, userdata in
            let easy = Unmanaged<CurlEasy>.fromOpaque(userdata!).takeUnretainedValue()
            let n = size * count
            if let ptr, n > 0 {
                ptr.withMemoryRebound(to: UInt8.self, capacity: n) { easy.responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            }
            return n
        }))
        try check(reclaw_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, me))
        try check(reclaw_curl_easy_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, { ptr, size, count, userdata in
            let easy = Unmanaged<CurlEasy>.fromOpaque(userdata!).takeUnretainedValue()
            let n = size * count
            if let ptr, n > 0 {
                let line = ptr.withMemoryRebound(to: UInt8.self, capacity: n) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
                }
                easy.headerLine(line)
            }
            return n
        }))
    }

    private func headerLine(_ raw: String) {
        let line = raw.trimmingCharacters(in: "\r\n")
        if line.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue, say): only the final response's headers count.
            responseHeaders.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
        responseHeaders.append((name, value))
    }

    /// Reads status and connection count after the transfer finished.
    func finish(result: CURLcode) -> Result<HTTPResponse, HTTPError> {
        guard result == CURLE_OK else { return .failure(error(for: result)) }
        var code = 0
        _ = reclaw_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        var connects = 0
        _ = reclaw_curl_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        return .success(HTTPResponse(status: code, headers: responseHeaders, body: responseBody, newConnections: connects))
    }

    func error(for code: CURLcode) -> HTTPError {
        let base = String(cString: curl_easy_strerror(code))
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty || detail == base ? base : "\(base): \(detail)"
        return HTTPError(code: Int(code.rawValue), message: message, host: host)
    }

    private func check(_ code: CURLcode) throws(HTTPError) {
        if code != CURLE_OK { throw error(for: code) }
    }

    private static func milliseconds(_ d: Duration) -> Int {
        let (s, attos) = d.components
        return Int(s) * 1000 + Int(attos / 1_000_000_000_000_000)
    }

    /// scheme://host:port of a URL, for errors that must not leak paths or queries.
    static func hostPart(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "?" }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@").last.map(String.init) ?? String(authority)
        return String(url[..<schemeEnd.upperBound]) + host
    }
}

extension String {
    /// The string without leading and trailing scalars from `set` (compared scalar by scalar, so "\r\n" works).
    func trimmingCharacters(in set: String) -> String {
        let unwanted = Set(set.unicodeScalars)
        var scalars = Substring(self).unicodeScalars
        while let f = scalars.first, unwanted.contains(f) { scalars = scalars.dropFirst() }
        while let l = scalars.last, unwanted.contains(l) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
