internal import CSystemShim
import Foundation
import ReclawAWS
internal import ReclawState
import Synchronization
import ReclawTime

/// The audit log: JSON Lines appended with O_APPEND and fsync'd before `append` returns, so an
/// event reported done survives a `kill -9`. It is mandatory: `ensureWritable` reserves disk for the
/// next events before an action starts, and an action whose record cannot be written is not started.
/// A torn line (a crash or a full disk mid-write) is fenced with a newline before the next append.
/// Files rotate by size, never losing an event.
public final class AuditLog: Sendable {
    public let path: String
    public let maxBytes: Int
    public let keep: Int
    /// How far back reclaw's own request ids are remembered, for telling its calls from others' in CloudTrail.
    public let requestRetention: TimeInterval

    struct Handle {
        var fd: Int32 = -1
        /// A write failed part-way: the next write starts with a newline.
        var needsFence = false
        /// The file offset up to which disk is reserved.
        var reservedEnd: Int64 = 0
    }

    static let reserveChunk: Int64 = 1 << 20
    static let reserveMargin: Int64 = 64 << 10

    private let handle = Mutex(Handle())
    private let batch = LineBatch()
    private let requests: Mutex<RequestIndex?> = Mutex(nil)

    public init(path: String, maxBytes: Int = 64 << 20, keep: Int = 5, requestRetention: TimeInterval = 2 * 86400) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
        self.requestRetention = requestRetention
    }

    deinit {
        handle.withLock { h in if h.fd >= 0 { close(h.fd) } }
    }

    /// Opens the log, fences a torn line and reserves disk for the next events; throws when the
    /// log cannot take them (a directory in its place, no permission, a full disk).
    public func ensureWritable() throws(AuditLogError) {
        try handle.withLock { h throws(AuditLogError) in
            try prepare(&h)
            try reserve(&h, Self.reserveMargin)
        }
    }

    /// Makes sure at least `needed` bytes past the end of the file are reserved on disk, so a
    /// write of that size cannot fail half-way for want of space: a chunk at a time when the disk
    /// allows, else exactly what is needed.
    private func reserve(_ h: inout Handle, _ needed: Int64) throws(AuditLogError) {
        let size = Int64(lseek(h.fd, 0, SEEK_END))
        guard size + needed > h.reservedEnd else { return }
        for length in [max(Self.reserveChunk, needed), needed] {
            switch reclaw_reserve_space(h.fd, size, length) {
            case 0:
                h.reservedEnd = size + length
                return
            case EOPNOTSUPP, ENOSYS:
                h.reservedEnd = Int64.max  // the file system cannot reserve; appends still report failures
                return
            case let code where length == needed:
                throw AuditLogError("cannot reserve space in \(path): \(String(cString: strerror(code)))")
            default:
                continue
            }
        }
    }

    /// Appends and fsyncs one event.
    public func append(_ event: AuditEvent) throws(AuditLogError) {
        try append(line: event.jsonLine)
        if event.eventType == .awsApiCall, let id = event.requestID {
            requests.withLock { $0?.insert(id, at: event.date ?? Clocks.date()) }
        }
    }

    /// Appends and fsyncs one line; lines appended at the same time share one write and one fsync
    /// (`LineBatch`), and each caller returns once its own is durable, or throws when it is not.
    public func append(line: String) throws(AuditLogError) {
        let ticket = batch.enqueue(Array((line + "\n").utf8))
        try handle.withLock { h throws(AuditLogError) in
            // Written (or failed) with the lines of a caller who held the file before.
            if let ended = batch.ended(ticket) {
                if let failure = ended { throw failure }
                return
            }
            let lines = batch.takeWaiting()
            let bytes = lines.flatMap { $0.bytes }
            var failure: AuditLogError?
            do throws(AuditLogError) { try writeDurably(bytes, &h) } catch { failure = error }
            batch.end(lines.map { $0.ticket }.filter { $0 != ticket }, failure)
            if let failure { throw failure }
        }
    }

    /// Writes lines whole and fsyncs them; on failure, takes back what was written.
    private func writeDurably(_ bytes: [UInt8], _ h: inout Handle) throws(AuditLogError) {
        try prepare(&h)
        if maxBytes > 0, lseek(h.fd, 0, SEEK_END) >= maxBytes {
            close(h.fd)
            h = Handle()
            try rotate()
            try prepare(&h)
        }
        // Space first: a line that cannot be written whole is not started.
        try reserve(&h, Int64(bytes.count))
        let start = lseek(h.fd, 0, SEEK_END)
        do throws(AuditLogError) {
            try writeAll(h.fd, bytes)
            guard fsync(h.fd) == 0 else { throw AuditLogError("fsync \(path): \(String(cString: strerror(errno)))") }
        } catch {
            // A line written part-way is taken back; if that fails too, the next write fences it.
            let end = lseek(h.fd, 0, SEEK_END)
            if end > start && !(ftruncate(h.fd, start) == 0 && fsync(h.fd) == 0) { h.needsFence = true }
            throw error
        }
    }

    /// Opens the file when needed and writes the fence a torn line needs.
    private func prepare(_ h: inout Handle) throws(AuditLogError) {
        if h.fd < 0 {
            h.fd = try open()
            h.needsFence = try endsTorn(h.fd)
        }
        if h.needsFence {
            try writeAll(h.fd, [UInt8(ascii: "\n")])
            guard fsync(h.fd) == 0 else { throw AuditLogError("fsync \(path): \(String(cString: strerror(errno)))") }
            h.needsFence = false
        }
    }

    /// Opens the log for appending, never through a link (`PrivateFiles`): a link planted at the
    /// log's path would have reclaw append to someone else's file.
    private func open() throws(AuditLogError) -> Int32 {
        let dir = (path as NSString).deletingLastPathComponent
        do throws(StateError) {
            if !dir.isEmpty { try PrivateFiles.makeDirectory(dir) }
            guard let fd = try PrivateFiles.open(path, O_WRONLY | O_APPEND | O_CREAT, inPlace: true) else {
                throw .io("cannot open \(path)", path: path)
            }
            DurableFileSync.directory(dir)
            return fd
        } catch {
            throw AuditLogError("the audit log cannot be opened: \(error.message)")
        }
    }

    /// Whether the file's last byte is not a newline (a torn line from a crash or a failed write).
    private func endsTorn(_ fd: Int32) throws(AuditLogError) -> Bool {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return false }
        let rfd: Int32
        do throws(StateError) {
            guard let opened = try PrivateFiles.open(path, O_RDONLY) else { throw .io("\(path) is gone", path: path) }
            rfd = opened
        } catch {
            throw AuditLogError("cannot read \(path): \(error.message)")
        }
        defer { close(rfd) }
        var last: UInt8 = 0
        guard pread(rfd, &last, 1, size - 1) == 1 else { throw AuditLogError("cannot read \(path): \(String(cString: strerror(errno)))") }
        return last != UInt8(ascii: "\n")
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(AuditLogError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AuditLogError("write \(path): \(String(cString: strerror(n < 0 ? errno : EIO)))") }
            offset += n
        }
    }

    /// audit.log → audit.log.1 → … → audit.log.KEEP (the oldest goes).
    private func rotate() throws(AuditLogError) {
        let fm = FileManager.default
        do {
            if fm.fileExists(atPath: "\(path).\(keep)") { try fm.removeItem(atPath: "\(path).\(keep)") }
            if keep > 1 {
                for i in stride(from: keep - 1, through: 1, by: -1) where fm.fileExists(atPath: "\(path).\(i)") {
                    try fm.moveItem(atPath: "\(path).\(i)", toPath: "\(path).\(i + 1)")
                }
            }
            try fm.moveItem(atPath: path, toPath: "\(path).1")
        } catch {
            throw AuditLogError("cannot rotate \(path): \(error.localizedDescription)")
        }
        DurableFileSync.directory((path as NSString).deletingLastPathComponent)
    }

    /// Every readable event, oldest first, across rotated files; torn or foreign lines are skipped.
    public func read() -> [AuditEvent] {
        Self.read(path: path, keep: keep)
    }

    /// Request ids of the AWS calls reclaw made since `since`: its own footprints in CloudTrail. The
    /// log is read once, back to the retention window; afterwards the ids come from memory.
    public func requestIDs(since: Date, now: Date = Clocks.date()) -> Set<String> {
        requests.withLock { index in
            if index == nil { index = RequestIndex.load(path: path, keep: keep, retention: requestRetention, now: now) }
            index!.prune(before: now.addingTimeInterval(-requestRetention))
            return index!.ids(since: since)
        }
    }

    /// Every request id still remembered (the retention window).
    public func requestIDs() -> Set<String> { requestIDs(since: .distantPast) }

    /// Whether reclaw made the AWS call with this request id (within the retention window): a
    /// lookup, for callers that ask once per CloudTrail event.
    public func madeRequest(_ id: String, now: Date = Clocks.date()) -> Bool {
        requests.withLock { index in
            if index == nil { index = RequestIndex.load(path: path, keep: keep, retention: requestRetention, now: now) }
            return index!.contains(id, since: now.addingTimeInterval(-requestRetention))
        }
    }

    public static func read(path: String, keep: Int = 5) -> [AuditEvent] {
        var events: [AuditEvent] = []
        forEachLine(path: path, keep: keep) { line in
            if let e = try? JSONDecoder().decode(AuditEvent.self, from: Data(line)) { events.append(e) }
        }
        return events
    }

    /// Calls `body` with every non-empty line, oldest file first.
    static func forEachLine(path: String, keep: Int, _ body: (ArraySlice<UInt8>) -> Void) {
        var files: [String] = []
        for i in stride(from: keep, through: 1, by: -1) where FileManager.default.fileExists(atPath: "\(path).\(i)") { files.append("\(path).\(i)") }
        files.append(path)
        for file in files {
            // A link in place of a log file is not read (`ensureWritable` reports it).
            guard let bytes = try? PrivateFiles.read(file) else { continue }
            for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty { body(line) }
        }
    }
}

public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

enum DurableFileSync {
    static func directory(_ dir: String) {
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
