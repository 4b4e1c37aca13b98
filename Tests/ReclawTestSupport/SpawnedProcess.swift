import Foundation

/// A long-running server started with posix_spawn, outside Foundation's Process: daemons such as
/// sshd and git-daemon close inherited descriptors, which Foundation takes for an exit and then
/// blocks its process-monitor thread on. Signals the test process ignores are reset to default.
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: pid_t
    private var reaped = false
    private let lock = NSLock()

    /// Starts `arguments` (looked up on PATH) with stdin, stdout and stderr on /dev/null.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, arguments[0], &actions, &attr, argv, envp)
        guard rc == 0 else { throw CommandFailure(arguments: arguments, result: CommandResult(status: rc, stdout: "", stderr: String(cString: strerror(rc)))) }
        pid = child
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if reaped { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { reaped = true }
        return !reaped
    }

    /// Kills the process with SIGKILL and reaps it.
    public func kill() {
        lock.lock()
        defer { lock.unlock() }
        guard !reaped else { return }
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
    }

    deinit { kill() }
}
