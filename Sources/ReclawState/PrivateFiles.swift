import Foundation

/// Files and directories in reclaw's state directory, where anyone able to write could plant a
/// link to a file of theirs or someone else's: links are never followed (a link is an error naming
/// it), directories are created 0700 and files 0600, and only regular files are read or written.
public enum PrivateFiles {
    public static let directoryMode: mode_t = 0o700
    public static let fileMode: mode_t = 0o600

    /// Creates `path` and its missing parents, each 0700; the directory itself must not be a link
    /// (a parent may be: `/var/run` is one on many systems).
    public static func makeDirectory(_ path: String) throws(StateError) {
        let path = path.isEmpty ? "." : path
        var info = stat()
        if lstat(path, &info) == 0 {
            try checkDirectory(path, info)
            return
        }
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/", lstat(current, &info) != 0 {
            guard errno == ENOENT else { throw .io("cannot create \(path): \(current): \(String(cString: strerror(errno)))", path: current) }
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for directory in missing.reversed() where mkdir(directory, directoryMode) != 0 && errno != EEXIST {
            throw .io("cannot create \(directory): \(String(cString: strerror(errno)))", path: directory)
        }
        guard lstat(path, &info) == 0 else { throw .io("cannot create \(path): \(String(cString: strerror(errno)))", path: path) }
        try checkDirectory(path, info)
    }

    private static func checkDirectory(_ path: String, _ info: stat) throws(StateError) {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return
        case S_IFLNK: throw StateError(.unsafeFile, "\(path) is a symbolic link; reclaw does not follow links in its state directory: replace it with a directory", path: path)
        default: throw StateError(.unsafeFile, "\(path) is not a directory; reclaw needs a directory there", path: path)
        }
    }

    /// Opens a regular file without following a link. With `inPlace` (a file written where it is,
    /// not replaced by a rename) a file with other hard links is refused too, since writing it
    /// would write them. Returns nil when the file does not exist and `flags` lack O_CREAT.
    public static func open(_ path: String, _ flags: Int32, inPlace: Bool = false) throws(StateError) -> Int32? {
        let fd = Foundation.open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, fileMode)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT && flags & O_CREAT == 0 { return nil }
            if code == ELOOP { throw linked(path) }
            throw .io("cannot open \(path): \(String(cString: strerror(code)))", path: path)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .io("cannot examine \(path): \(String(cString: strerror(code)))", path: path)
        }
        if info.st_mode & S_IFMT != S_IFREG {
            close(fd)
            throw StateError(.unsafeFile, "\(path) is not a regular file; reclaw reads and writes only regular files in its state directory: remove it", path: path)
        }
        if inPlace && info.st_nlink > 1 {
            close(fd)
            throw StateError(.unsafeFile, "\(path) has \(info.st_nlink) hard links; writing it would change the other names too: remove it", path: path)
        }
        return fd
    }

    /// A regular file's bytes, nil when it does not exist; a link is an error naming it.
    public static func read(_ path: String) throws(StateError) -> [UInt8]? {
        guard let fd = try open(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        return try readAll(fd, path)
    }

    /// The rest of an open file's bytes from `offset`.
    public static func readAll(_ fd: Int32, _ path: String, from offset: off_t = 0) throws(StateError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var position = offset
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, position) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .io("cannot read \(path): \(String(cString: strerror(errno)))", path: path) }
            if n == 0 { return bytes }
            bytes += buffer[..<n]
            position += off_t(n)
        }
    }

    /// Whether `path` is a link (or anything but a regular file): an error naming it. Missing is fine.
    public static func checkNotLinked(_ path: String) throws(StateError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFLNK { throw linked(path) }
    }

    /// Removes a file (a link itself, never its target); missing is fine.
    public static func remove(_ path: String) throws(StateError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .io("cannot remove \(path): \(String(cString: strerror(errno)))", path: path)
        }
    }

    static func linked(_ path: String) -> StateError {
        StateError(.unsafeFile, "\(path) is a symbolic link; reclaw does not follow links in its state directory: remove it", path: path)
    }
}
