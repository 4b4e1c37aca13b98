import Foundation

/// Writes files so a crash leaves either the old or the new contents, never a torn mix:
/// write a temporary file, fsync it, rename it over the target, fsync the directory.
public enum DurableFile {
    public static func write(_ data: Data, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateError.io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw StateError.io("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        syncDirectory(directory)
    }

    public static func syncDirectory(_ directory: String) {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

/// A state file that could not be read or written.
public enum StateError: Error, CustomStringConvertible {
    case io(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .io(let m): return m
        case .corrupt(let m): return m
        }
    }
}
