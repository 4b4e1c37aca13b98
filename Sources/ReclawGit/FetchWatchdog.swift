import Foundation
internal import CGit2
import ReclawTime

/// How long a fetch may wait and how much it may receive. libgit2 1.5 has no timeouts of its own
/// (its sockets block in connect() and recv() for as long as the remote stays silent).
public struct GitFetchLimits: Sendable, Hashable {
    /// Longest wait for one TCP connection to be established.
    public var connectTimeout: Duration
    /// Longest the whole fetch may take, connecting included.
    public var timeout: Duration
    /// Most bytes the remote may send in one fetch.
    public var maxReceivedBytes: Int

    public init(connectTimeout: Duration = .seconds(20), timeout: Duration = .seconds(120), maxReceivedBytes: Int = 1 << 30) {
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxReceivedBytes = maxReceivedBytes
    }
}

/// Bounds one blocking libgit2 fetch running on the thread that created it.
///
/// libgit2 calls back now and then (progress, credentials, certificates, ref updates), and each
/// callback asks `expired`, so a fetch that makes progress stops at its deadline with a clear
/// error. A remote that accepts and then says nothing gets no callback at all: the fetch thread
/// sits in `recv()` (or in `connect()`, towards a host that drops packets). For that, a second
/// thread looks at what the fetch thread is blocked in (`/proc/self/task/TID/syscall`) every
/// `tick`; when a `connect()` has lasted longer than the connect timeout, or anything lasts past
/// the deadline, it shuts down (`shutdown(2)`) the socket the fetch thread is waiting on, which
/// makes that call return at once and libgit2 fail. Only sockets created after the fetch started
/// are touched. When the thread waits in `poll()` (libssh2 does), the socket is not in the call's
/// arguments: then every socket opened since the fetch started whose peer is the remote's port
/// is shut down.
final class FetchWatchdog: @unchecked Sendable {
    let limits: GitFetchLimits
    let remotePort: Int?
    let now: @Sendable () -> Duration
    let started: Duration
    let tick: Duration
    private let threadID: Int32
    private let socketsBefore: Set<UInt64>
    private let condition = NSCondition()
    private var finished = false
    private var connecting: (fd: Int32, since: Duration)?
    private var _connectTimedOut = false
    private var _expired = false
    private var _receivedTooMuch = false
    private var _socketsShutDown = 0

    /// Call on the thread that will run the fetch.
    init(limits: GitFetchLimits, remotePort: Int?, tick: Duration = .milliseconds(50),
         now: @escaping @Sendable () -> Duration = { Clocks.now() }) {
        self.limits = limits
        self.remotePort = remotePort
        self.now = now
        self.tick = tick
        started = now()
        threadID = reclaw_gettid()
        socketsBefore = Set(OpenSockets.list().map(\.inode))
    }

    var deadline: Duration { started + limits.timeout }

    /// Starts watching; `finish` stops it.
    func start() {
        let thread = Thread { [self] in watch() }
        thread.name = "reclaw-fetch-watchdog"
        thread.start()
    }

    /// The fetch returned: stop watching.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    /// Whether the deadline has passed (callbacks ask, and abort the fetch when it has).
    var expired: Bool {
        condition.lock()
        defer { condition.unlock() }
        if !_expired && now() >= deadline { _expired = true }
        return _expired
    }

    var connectTimedOut: Bool { condition.withLock { _connectTimedOut } }
    var socketsShutDown: Int { condition.withLock { _socketsShutDown } }

    /// Called with the bytes received so far; true when over the limit (the fetch is aborted).
    func received(_ bytes: Int) -> Bool {
        guard bytes > limits.maxReceivedBytes else { return false }
        condition.withLock { _receivedTooMuch = true }
        return true
    }

    var receivedTooMuch: Bool { condition.withLock { _receivedTooMuch } }

    private func watch() {
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            let seconds = Double(tick.components.seconds) + Double(tick.components.attoseconds) / 1e18
            _ = condition.wait(until: Clocks.date().addingTimeInterval(seconds))
            if finished { break }
            inspect()
        }
    }

    /// One look at the fetch thread; called with the lock held.
    private func inspect() {
        let t = now()
        let call = BlockingCall.of(thread: threadID)
        if case .connect(let fd) = call {
            if let c = connecting, c.fd == fd {
                if t - c.since >= limits.connectTimeout {
                    _connectTimedOut = true
                    shutDownIfNew(fd)
                }
            } else {
                connecting = (fd, t)
            }
        } else {
            connecting = nil
        }
        guard t >= deadline else { return }
        _expired = true
        switch call {
        case .connect(let fd), .socketIO(let fd):
            shutDownIfNew(fd)
        case .waiting:
            guard let remotePort else { return }
            for socket in OpenSockets.list() where !socketsBefore.contains(socket.inode) && OpenSockets.peerPort(socket.fd) == remotePort {
                shutDownIfNew(socket.fd)
            }
        case .other:
            break
        }
    }

    private func shutDownIfNew(_ fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, !socketsBefore.contains(UInt64(info.st_ino)) else { return }
        if shutdown(fd, Int32(SHUT_RDWR)) == 0 { _socketsShutDown += 1 }
    }
}

/// What a thread of this process is blocked in, from `/proc/self/task/TID/syscall`.
enum BlockingCall: Equatable {
    /// connect(fd, ...).
    case connect(Int32)
    /// read, write, recv*, send* on fd.
    case socketIO(Int32)
    /// poll, ppoll, select, pselect6: the descriptors are behind a pointer.
    case waiting
    /// Running, or in another call.
    case other

    static func of(thread: Int32) -> BlockingCall {
        guard let text = try? String(contentsOfFile: "/proc/self/task/\(thread)/syscall", encoding: .utf8) else { return .other }
        return parse(text)
    }

    static func parse(_ text: String) -> BlockingCall {
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let number = Int(fields[0]) else { return .other }
        let arg0 = fields[1].hasPrefix("0x") ? Int64(fields[1].dropFirst(2), radix: 16) : nil
        let fd = arg0.flatMap { Int32(exactly: $0) }
        switch Syscalls.kind(number) {
        case .connect: return fd.map { .connect($0) } ?? .other
        case .io: return fd.map { .socketIO($0) } ?? .other
        case .wait: return .waiting
        case nil: return .other
        }
    }
}

/// The system call numbers that matter here, per architecture.
enum Syscalls {
    enum Kind { case connect, io, wait }

    static func kind(_ number: Int) -> Kind? {
        #if arch(x86_64)
        switch number {
        case 42: return .connect
        case 0, 1, 19, 20, 44, 45, 46, 47: return .io         // read write readv writev sendto recvfrom sendmsg recvmsg
        case 7, 23, 270, 271: return .wait                    // poll select pselect6 ppoll
        default: return nil
        }
        #elseif arch(arm64)
        switch number {
        case 203: return .connect
        case 63, 64, 65, 66, 206, 207, 211, 212: return .io   // read write readv writev sendto recvfrom sendmsg recvmsg
        case 72, 73: return .wait                             // pselect6 ppoll
        default: return nil
        }
        #else
        return nil
        #endif
    }
}

/// The process's open sockets, from `/proc/self/fd`.
enum OpenSockets {
    struct Socket { var fd: Int32; var inode: UInt64 }

    static func list() -> [Socket] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
        var out: [Socket] = []
        for name in names {
            guard let fd = Int32(name) else { continue }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { continue }
            out.append(Socket(fd: fd, inode: UInt64(info.st_ino)))
        }
        return out
    }

    /// The port of the socket's peer, if it is a connected TCP/IP socket.
    static func peerPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard ok == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        default:
            return nil
        }
    }
}
