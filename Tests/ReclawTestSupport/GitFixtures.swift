import Foundation

/// A real upstream repository made with the git CLI: a work tree, and a bare copy it pushes to.
public final class Upstream: @unchecked Sendable {
    public let dir = TemporaryDirectory("reclaw-git")
    public var work: String { dir.file("work") }
    public var bare: String { dir.file("upstream.git") }
    public var url: String { "file://" + bare }

    public init() throws {
        try Command.check(["git", "init", "-q", "-b", "main", work])
        try Command.check(["git", "init", "-q", "--bare", "-b", "main", bare])
        try git("config", "user.email", "dev@example.com")
        try git("config", "user.name", "Dev")
        try git("remote", "add", "origin", bare)
    }

    @discardableResult
    public func git(_ args: String...) throws -> String {
        try Command.check(["git", "-C", work] + args).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes (or, with nil, removes) files, commits and pushes; returns the commit id.
    @discardableResult
    public func commit(_ files: [String: String?], message: String = "change", push: Bool = true) throws -> String {
        for (path, contents) in files {
            if let contents { dir.write("work/" + path, contents) } else { try? FileManager.default.removeItem(atPath: dir.file("work/" + path)) }
        }
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        if push { try git("push", "-q", "-f", "origin", "HEAD:main") }
        return try git("rev-parse", "HEAD")
    }
}

/// A server process for one test, stopped when the test is done.
public final class ServerProcess: @unchecked Sendable {
    public let url: String
    let process: SpawnedProcess
    let keep: [AnyObject]

    init(url: String, process: SpawnedProcess, keep: [AnyObject] = []) {
        self.url = url
        self.process = process
        self.keep = keep
    }

    /// Kills the server.
    public func stop() { process.kill() }

    /// A free loopback port.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func waitForPort(_ port: Int) {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if ok == 0 { return }
            usleep(50_000)
        }
    }

    /// `git daemon` serving `base` on loopback: git://127.0.0.1:PORT/NAME.
    public static func gitDaemon(base: String) throws -> ServerProcess {
        let port = freePort()
        // The git-daemon binary itself, so killing the pid stops the server rather than a wrapper.
        let execPath = try Command.check(["git", "--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let p = try SpawnedProcess([execPath + "/git-daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(base)", base])
        waitForPort(port)
        return ServerProcess(url: "git://127.0.0.1:\(port)", process: p)
    }

    /// Smart HTTP over `git http-backend`, refusing requests without the token: http://127.0.0.1:PORT/NAME.
    public static func gitHTTP(base: String, username: String, token: String) throws -> ServerProcess {
        let port = freePort()
        let p = try SpawnedProcess(["python3", RepoPaths.path("Tests/Servers/git_http_server.py"), "--base", base, "--port", "\(port)",
                                    "--username", username, "--token", token, "--watch-pid", "\(ProcessInfo.processInfo.processIdentifier)"])
        waitForPort(port)
        return ServerProcess(url: "http://127.0.0.1:\(port)", process: p)
    }

    /// A private sshd on loopback accepting one key for `root`; nil unless running as root with sshd installed.
    /// `hostKey` is the server's public host key file.
    public static func sshd(base: String) throws -> (server: ServerProcess, key: String, hostKey: String, port: Int)? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else { return nil }
        let dir = TemporaryDirectory("reclaw-sshd")
        try Command.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.file("host_key")])
        try Command.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.file("client_key")])
        try FileManager.default.copyItem(atPath: dir.file("client_key.pub"), toPath: dir.file("authorized_keys"))
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let port = freePort()
        dir.write("sshd_config", """
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(dir.file("host_key"))
        AuthorizedKeysFile \(dir.file("authorized_keys"))
        PasswordAuthentication no
        PubkeyAuthentication yes
        PermitRootLogin prohibit-password
        StrictModes no
        UsePAM no
        PidFile \(dir.file("sshd.pid"))
        """)
        let p = try SpawnedProcess(["/usr/sbin/sshd", "-D", "-e", "-f", dir.file("sshd_config")])
        waitForPort(port)
        return (ServerProcess(url: "ssh://root@127.0.0.1:\(port)\(base)", process: p, keep: [dir]), dir.file("client_key"), dir.file("host_key.pub"), port)
    }
}
