import Foundation
import Synchronization
internal import CCurl
internal import CCurlShim

/// Sends HTTP requests through one curl multi handle driven by its own thread, so many requests run
/// at once without blocking Swift's cooperative threads, and connections are kept alive and reused.
public final class HTTPClient: Sendable {
    private let loop: CurlMultiLoop

    public init() {
        loop = CurlMultiLoop()
    }

    deinit {
        loop.stop()
    }

    /// A client shared by the whole process.
    public static let shared = HTTPClient()

    /// Sends one request and waits for its complete response.
    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let easy = try CurlEasy(request: request)
        let transfer = Transfer(easy: easy)
        let result: Result<HTTPResponse, HTTPError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.continuation.withLock { $0 = continuation }
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        return try result.get()
    }
}

/// One request in flight: its easy handle and the continuation waiting for it.
final class Transfer: @unchecked Sendable {
    // The easy handle is touched only by the loop thread once submitted.
    let easy: CurlEasy
    let continuation = Mutex<CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>?>(nil)
    /// Set once its task is cancelled, which may happen before the loop has even seen it.
    let cancelled = Mutex(false)

    init(easy: CurlEasy) {
        self.easy = easy
    }

    func completeCancelled() {
        complete(.failure(HTTPError(code: -1, message: "request cancelled", host: easy.host)))
    }

    func completePastDeadline() {
        complete(.failure(HTTPError(code: -2, message: "not sent: its deadline had passed when it could start", host: easy.host)))
    }

    func complete(_ result: Result<HTTPResponse, HTTPError>) {
        let c = continuation.withLock { c in
            defer { c = nil }
            return c
        }
        c?.resume(returning: result)
    }
}

/// The thread that owns the curl multi handle: it adds submitted transfers, drives them, and
/// completes each one; other threads only enqueue work and wake it.
final class CurlMultiLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private struct Pending {
        var add: [Transfer] = []
        var cancel: [Transfer] = []
        var stop = false
    }

    private let pending = Mutex(Pending())

    init() {
        CurlGlobal.ensureInitialized()
        multi = curl_multi_init()
        _ = reclaw_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 64)
        let thread = Thread { [self] in run() }
        thread.name = "reclaw-curl"
        thread.start()
    }

    func submit(_ transfer: Transfer) {
        pending.withLock { $0.add.append(transfer) }
        curl_multi_wakeup(multi)
    }

    /// Ends the loop thread once the transfers in flight are done; it then frees the multi handle.
    func stop() {
        pending.withLock { $0.stop = true }
        curl_multi_wakeup(multi)
    }

    func cancel(_ transfer: Transfer) {
        transfer.cancelled.withLock { $0 = true }
        pending.withLock { $0.cancel.append(transfer) }
        curl_multi_wakeup(multi)
    }

    private func run() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            let (adds, cancels, stop) = pending.withLock { p in
                defer { p.add = []; p.cancel = [] }
                return (p.add, p.cancel, p.stop)
            }
            if stop && active.isEmpty && adds.isEmpty {
                curl_multi_cleanup(multi)
                return
            }
            // A transfer cancelled before it arrived here is never started, nor one whose deadline
            // passed (the process may have been paused since it was allowed).
            for t in adds {
                if t.cancelled.withLock({ $0 }) {
                    t.completeCancelled()
                } else if !t.easy.fitDeadline() {
                    t.completePastDeadline()
                } else {
                    active[t.easy.handle] = t
                    curl_multi_add_handle(multi, t.easy.handle)
                }
            }
            for t in cancels where active[t.easy.handle] === t {
                curl_multi_remove_handle(multi, t.easy.handle)
                active[t.easy.handle] = nil
                t.completeCancelled()
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let msg = curl_multi_info_read(multi, &queued) {
                guard msg.pointee.msg == CURLMSG_DONE, let handle = msg.pointee.easy_handle else { continue }
                let result = msg.pointee.data.result
                curl_multi_remove_handle(multi, handle)
                if let t = active.removeValue(forKey: handle) {
                    t.complete(t.easy.finish(result: result))
                }
            }
            var fds: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &fds)
        }
    }
}

/// curl_global_init must run once, before any other thread uses curl.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    static func ensureInitialized() {
        _ = initialized
    }

    /// The version of the linked libcurl, for `reclaw --version`.
    static var version: String { String(cString: curl_version()) }
}

/// Facts about the linked libcurl.
public enum HTTPLibrary {
    /// libcurl's version line, as `curl_version()` reports it.
    public static var version: String { CurlGlobal.version }
}
