import Foundation
import ReclawHTTP
import ReclawTestSupport
import Testing

/// `reclaw run --metrics-address` as an operator starts it: a taken port is a clear startup error,
/// and host names, IPv6 and every-interface addresses are served.
@Suite struct MetricsAddressTests {
    /// A socket bound to a free loopback port (and listening, when asked), with that port.
    static func boundSocket(listening: Bool) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                bind(fd, s, length) == 0 && (!listening || listen(fd, 1) == 0) && getsockname(fd, s, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    /// A port nothing listens on now (bound to 0 and released).
    static func freePort() throws -> UInt16 {
        let (fd, port) = try boundSocket(listening: false)
        close(fd)
        return port
    }

    /// Whether this machine has an IPv6 loopback to test against.
    static let hasIPv6Loopback: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var a = sockaddr_in6()
        a.sin6_family = sa_family_t(AF_INET6)
        a.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } } == 0
    }()

    struct Daemon {
        let dir = TemporaryDirectory("reclaw-metrics")
        var environment: [String: String] { ["RECLAW_STATE_DIR": dir.file("state"), "AWS_REGION": "us-east-1"] }
        var arguments: [String] {
            _ = dir.write("specs/README.md", "no specs yet")
            return [RepoPaths.reclawBinary, "run", "--source", dir.file("specs"), "--interval", "1h", "--drift-interval", "1h"]
        }

        /// Runs `reclaw run` with `extra` until `check` is done, then stops it with SIGTERM.
        func serve(_ extra: [String], _ check: () async throws -> Void) async throws {
            let process = try Command.launch(arguments + extra, environment: environment)
            async let logs = Command.offThread { String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
            do { try await check() } catch {
                // Failed already: stopped for sure, so a daemon that missed its SIGTERM never hangs the suite.
                kill(process.processIdentifier, SIGKILL)
                let stderr = try await logs
                Issue.record("the daemon's log: \(stderr.suffix(2000))")
                throw error
            }
            kill(process.processIdentifier, SIGTERM)
            try await Command.offThread { process.waitUntilExit() }
            let stderr = try await logs
            #expect(process.terminationStatus == 0, "\(stderr.suffix(2000))")
        }
    }

    /// GET /healthz until it answers, for up to 2 minutes (the daemon is starting, on a machine that
    /// may be busy with the whole suite).
    static func healthz(_ url: String) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            do {
                return try await HTTPClient().send(HTTPRequest(url: url + "/healthz", connectTimeout: .seconds(2), timeout: .seconds(5))).status
            } catch {
                if ContinuousClock.now > deadline { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test func aTakenPortStopsReclawAtStartupWithAnErrorNamingTheAddress() async throws {
        // Something else listens on the port.
        let (fd, port) = try Self.boundSocket(listening: true)
        defer { close(fd) }
        let d = Daemon()
        let process = try Command.launch(d.arguments + ["--metrics-address", "127.0.0.1:\(port)"], environment: d.environment)
        let exited = try await Command.offThread { () -> Bool in
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            return !process.isRunning
        }
        if !exited { process.terminate() }
        let stderr = String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(exited, "reclaw kept running on a taken port")
        #expect(process.terminationStatus == 1)
        #expect(stderr.contains("127.0.0.1:\(port)") && stderr.contains("already in use"), "\(stderr.suffix(2000))")
        #expect(stderr.components(separatedBy: "\n").count < 20, "a flood of lines: \(stderr.suffix(2000))")
    }

    @Test func anAddressWithoutAPortIsAUsageError() async throws {
        let d = Daemon()
        let r = try await Command.run(d.arguments + ["--metrics-address", "9464"], environment: d.environment)
        #expect(r.status == 64)
        #expect(r.stderr.contains("--metrics-address 9464"))
        let v6 = try await Command.run(d.arguments + ["--metrics-address", "::1:9464"], environment: d.environment)
        #expect(v6.status == 64 && v6.stderr.contains("[::1]:9464"))
    }

    @Test func localhostIsResolvedAndServedOnEachOfItsAddresses() async throws {
        let port = try Self.freePort()
        try await Daemon().serve(["--metrics-address", "localhost:\(port)"]) {
            let v4 = try await Self.healthz("http://127.0.0.1:\(port)")
            #expect(v4 == 200)
            if Self.hasIPv6Loopback {
                let resolvesToV6 = (try? await HTTPClient().send(HTTPRequest(url: "http://[::1]:\(port)/healthz", timeout: .seconds(5))).status) == 200
                // /etc/hosts may map localhost to 127.0.0.1 only; when it maps ::1 too, that is served.
                let hosts = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
                let listsV6 = hosts.split(separator: "\n").contains { $0.hasPrefix("::1") && $0.split(whereSeparator: \.isWhitespace).contains("localhost") }
                #expect(resolvesToV6 == listsV6)
            }
        }
    }

    @Test(.enabled(if: MetricsAddressTests.hasIPv6Loopback, "this machine has no IPv6 loopback"))
    func anIPv6AddressInBracketsIsServed() async throws {
        let port = try Self.freePort()
        try await Daemon().serve(["--metrics-address", "[::1]:\(port)"]) {
            let v6 = try await Self.healthz("http://[::1]:\(port)")
            #expect(v6 == 200)
        }
    }

    @Test func aPortAloneServesEveryInterface() async throws {
        let port = try Self.freePort()
        try await Daemon().serve(["--metrics-address", ":\(port)"]) {
            let v4 = try await Self.healthz("http://127.0.0.1:\(port)")
            #expect(v4 == 200)
            if Self.hasIPv6Loopback {
                let v6 = try await Self.healthz("http://[::1]:\(port)")
                #expect(v6 == 200)
            }
            let metrics = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics")).bodyText
            #expect(metrics.contains("reclaw_build_info{"))
        }
    }

    @Test func sigtermIsNotHeldUpByClientsInTheMiddleOfTheirHeaders() async throws {
        let port = try Self.freePort()
        let d = Daemon()
        let process = try Command.launch(d.arguments + ["--metrics-address", "127.0.0.1:\(port)"], environment: d.environment)
        async let logs = Command.offThread { String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        let ready = try await Self.healthz("http://127.0.0.1:\(port)")
        #expect(ready == 200)
        // Slow clients, each with a header half sent: the server would wait 10 s for the rest.
        let slow = try (0..<3).map { _ in try RawConnection(port) }
        for c in slow { c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a") }
        let during = try await Self.healthz("http://127.0.0.1:\(port)")
        #expect(during == 200)
        // More, right before SIGTERM: on a loaded machine the first may have met their deadline already.
        let late = try (0..<3).map { _ in try RawConnection(port) }
        for c in late { c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a") }
        let pid = process.processIdentifier
        try await Command.offThread {
            kill(pid, SIGTERM)
            process.waitUntilExit()
        }
        let stderr = try await logs
        #expect(process.terminationStatus == 0, "\(stderr.suffix(2000))")
        // Shutdown cut the slow clients off: had it waited for them, the header deadline would
        // have answered each 408 before closing.
        let ends = late.map { $0.readUntilClosed(timeout: 1) }
        #expect(ends.allSatisfy { $0.closed && !$0.text.contains("408") }, "\(ends)")
        #expect(slow.allSatisfy { $0.closedByPeer(within: 1) })
    }
}
