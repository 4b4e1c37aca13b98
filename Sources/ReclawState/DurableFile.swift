import Foundation

/// Writes files so a crash leaves either the old or the new contents, never a torn mix:
/// write a temporary file, fsync it, rename it over the target, fsync the directory. Every failure
/// (a full disk included) is an error naming the file and the system's reason. Directories are
/// created 0700, files 0600, and a link at the target is refused (`PrivateFiles`).
public enum DurableFile {
    public static func write(_ data: Data, to path: String) throws(StateError) {
        let directory = (path as NSString).deletingLastPathComponent
        try PrivateFiles.makeDirectory(directory)
        // The rename would replace a link rather than write through it; a link is still refused,
        // so a planted one is seen and named.
        try PrivateFiles.checkNotLinked(path)
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, PrivateFiles.fileMode)
        guard fd >= 0 else { throw .io("cannot write \(path): \(String(cString: strerror(errno)))", path: path) }
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = n < 0 ? errno : EIO
                    return
                }
                offset += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw .io("cannot write \(path): \(String(cString: strerror(failure)))", path: path)
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
