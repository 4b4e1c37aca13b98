import Foundation
import Synchronization

/// The audit log: JSON Lines appended with O_APPEND and fsync'd before `append` returns, so an
/// event reported done survives a `kill -9`. A torn last line (a crash mid-write) is skipped on
/// read and fenced off before the next append. Files rotate by size, never losing an event.
public final class AuditLog: Sendable {
    public let path: String
    public let maxBytes: Int
    public let keep: Int
    private let state = Mutex<Int32>(-1)

    public init(path: String, maxBytes: Int = 64 << 20, keep: Int = 5) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
    }

    deinit {
        state.withLock { fd in if fd >= 0 { close(fd) } }
    }

    /// Appends and fsyncs one event.
    public func append(_ event: AuditEvent) throws {
        try append(line: event.jsonLine)
    }

    public func append(line: String) throws {
        try state.withLock { fd in
            if fd < 0 { fd = try open() }
            if maxBytes > 0, lseek(fd, 0, SEEK_END) >= maxBytes {
                close(fd)
                fd = -1
                try rotate()
                fd = try open()
            }
            let bytes = Array((line + "\n").utf8)
            try writeAll(fd, bytes)
            guard fsync(fd) == 0 else { throw AuditLogError("fsync \(path): \(String(cString: strerror(errno)))") }
        }
    }

    private func open() throws -> Int32 {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw AuditLogError("cannot open \(path): \(String(cString: strerror(errno)))") }
        // A torn last line from a crash is fenced with a newline so the next event starts clean.
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            let rfd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
            var last: UInt8 = 0
            if rfd >= 0 {
                _ = pread(rfd, &last, 1, size - 1)
                close(rfd)
            }
            if last != UInt8(ascii: "\n") { try writeAll(fd, [UInt8(ascii: "\n")]) }
        }
        DurableFileSync.directory(dir)
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw AuditLogError("write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// audit.log → audit.log.1 → … → audit.log.KEEP (the oldest goes).
    private func rotate() throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: "\(path).\(keep)")
        if keep > 1 {
            for i in stride(from: keep - 1, through: 1, by: -1) where fm.fileExists(atPath: "\(path).\(i)") {
                try fm.moveItem(atPath: "\(path).\(i)", toPath: "\(path).\(i + 1)")
            }
        }
        try fm.moveItem(atPath: path, toPath: "\(path).1")
        DurableFileSync.directory((path as NSString).deletingLastPathComponent)
    }

    /// Every readable event, oldest first, across rotated files; torn or foreign lines are skipped.
    public func read() -> [AuditEvent] {
        Self.read(path: path, keep: keep)
    }

    /// Request ids of every AWS call reclaw recorded: its own footprints in CloudTrail.
    public func requestIDs() -> Set<String> {
        Set(read().filter { $0.eventType == .awsApiCall }.compactMap(\.requestID))
    }

    public static func read(path: String, keep: Int = 5) -> [AuditEvent] {
        var files: [String] = []
        for i in stride(from: keep, through: 1, by: -1) where FileManager.default.fileExists(atPath: "\(path).\(i)") { files.append("\(path).\(i)") }
        files.append(path)
        let decoder = JSONDecoder()
        var events: [AuditEvent] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                if let e = try? decoder.decode(AuditEvent.self, from: Data(line)) { events.append(e) }
            }
        }
        return events
    }
}

public struct AuditLogError: Error, CustomStringConvertible {
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
