import Foundation
import ReclawHTTP

/// A local HTTP(S) echo server (Tests/Servers/echo_server.py) running for one test.
public final class EchoServer: @unchecked Sendable {
    public let url: String
    private let process: Process
    private let certificates: TemporaryDirectory?

    /// Starts a server; with `tls`, it serves HTTPS with a fresh self-signed certificate.
    public init(tls: Bool = false) throws {
        var arguments = ["python3", RepoPaths.path("Tests/Servers/echo_server.py"),
                         "--watch-pid", String(ProcessInfo.processInfo.processIdentifier)]
        if tls {
            let dir = TemporaryDirectory("reclaw-cert")
            try Command.check(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                               "-subj", "/CN=127.0.0.1", "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem")])
            arguments += ["--cert", dir.file("cert.pem"), "--key", dir.file("key.pem")]
            certificates = dir
        } else {
            certificates = nil
        }
        process = try Command.launch(arguments)
        let out = (process.standardOutput as! Pipe).fileHandleForReading
        var line = Data()
        while true {
            let byte = out.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        url = String(decoding: line, as: UTF8.self)
    }

    deinit {
        process.terminate()
    }

    /// The bodies POSTed to `/record` so far, as the JSON list `/records` answers.
    public func records() async throws -> String {
        try await HTTPClient.shared.send(.init(url: url + "/records")).bodyText
    }
}
