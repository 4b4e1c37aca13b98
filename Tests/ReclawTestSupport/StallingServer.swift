import Foundation

extension ServerProcess {
    /// How a `stalling` server keeps a client waiting.
    public enum Stall: String, Sendable {
        /// Accepts and never sends a byte.
        case silent
        /// Accepts and sends one byte every 200 ms, never completing anything.
        case trickle
        /// Never accepts, with its queue full: the client's connect() itself hangs.
        case backlog
    }

    /// A TCP server on loopback that never lets a git fetch finish (Tests/Servers/stalling_server.py),
    /// on `port` or a free one; `url` is `127.0.0.1:PORT`, to be prefixed with a scheme.
    public static func stalling(_ stall: Stall, port: Int? = nil) throws -> ServerProcess {
        let port = port ?? freePort()
        // A backlog server cannot be probed (a probe would hang), so it says when it is ready.
        let ready = NSTemporaryDirectory() + "reclaw-stalling-\(port)-\(UUID().uuidString).ready"
        defer { try? FileManager.default.removeItem(atPath: ready) }
        let p = try SpawnedProcess(["python3", RepoPaths.path("Tests/Servers/stalling_server.py"), "--mode", stall.rawValue, "--port", "\(port)",
                                    "--watch-pid", "\(ProcessInfo.processInfo.processIdentifier)", "--ready-file", ready])
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: ready) && Date() < deadline { usleep(20_000) }
        return ServerProcess(url: "127.0.0.1:\(port)", process: p)
    }

    /// `git daemon` serving `base` on loopback on a given port: git://127.0.0.1:PORT/NAME.
    public static func gitDaemon(base: String, port: Int) throws -> ServerProcess {
        let execPath = try Command.check(["git", "--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let p = try SpawnedProcess([execPath + "/git-daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(base)", base])
        waitForPort(port)
        return ServerProcess(url: "git://127.0.0.1:\(port)", process: p)
    }

    /// The port of a server's URL.
    public var port: Int { Int(url.split(separator: ":").last.map(String.init) ?? "") ?? 0 }
}
