import Foundation
import ReclawTime

/// An exclusive lock on a state directory, held for as long as the process uses it, so two
/// reclaw processes never act on the same state (and so on the same deployments) at once. The
/// kernel releases it when the process ends, however it ends. The lock file is never reached
/// through a link (`PrivateFiles`).
public final class StateLock: Sendable {
    public let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Takes the lock or fails at once, naming the process that holds it.
    public static func acquire(directory: String, purpose: String, now: Date = Clocks.date()) throws(StateError) -> StateLock {
        try PrivateFiles.makeDirectory(directory)
        let path = directory + "/reclaw.lock"
        // In place: a link or a second hard link here would have reclaw truncate someone's file.
        guard let fd = try PrivateFiles.open(path, O_RDWR | O_CREAT, inPlace: true) else {
            throw .io("cannot open \(path)", path: path)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = (try? PrivateFiles.readAll(fd, path)).map { String(decoding: $0.prefix(512), as: UTF8.self) }?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            if code == EWOULDBLOCK {
                throw StateError(.locked, "the state directory \(directory) is in use by another reclaw process"
                    + (holder.isEmpty ? "" : " (\(holder))") + "; stop it, or give this one its own --state-dir", path: path)
            }
            throw .io("cannot lock \(path): \(String(cString: strerror(code)))", path: path)
        }
        let host = ProcessInfo.processInfo.hostName
        let line = "pid \(getpid()) on \(host), \(purpose), since \(ISO8601DateFormatter().string(from: now))\n"
        _ = ftruncate(fd, 0)
        _ = line.withCString { pwrite(fd, $0, strlen($0), 0) }
        return StateLock(path: path, fd: fd)
    }
}
