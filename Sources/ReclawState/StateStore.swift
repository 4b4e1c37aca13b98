import Foundation

/// A state file that could not be read or written: the deployment it belongs to stops until it can.
public struct StateError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file exists but does not decode.
        case corrupt = "StateCorrupt"
        /// Reading or writing failed (a full disk, permissions, a directory in the way).
        case io = "StateIOError"
        /// A name that is not a deployment name was about to become a file name.
        case invalidName = "InvalidDeploymentName"
        /// Another reclaw process holds the state directory.
        case locked = "StateLocked"
        /// A link, or something else than a regular file or directory, where reclaw keeps state.
        case unsafeFile = "StateUnsafeFile"
    }

    public var code: Code
    public var message: String
    /// The file concerned.
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public static func corrupt(_ message: String, path: String? = nil) -> StateError { StateError(.corrupt, message, path: path) }
    public static func io(_ message: String, path: String? = nil) -> StateError { StateError(.io, message, path: path) }

    public var description: String { message }
}

/// Every deployment's status, and the files that could not be read: one corrupt file never hides
/// the others.
public struct StatusScan: Sendable {
    public var statuses: [DeploymentStatus] = []
    /// Deployment (or file) name → why its status cannot be read.
    public var unreadable: [String: StateError] = [:]

    public init() {}

    public subscript(name: String) -> DeploymentStatus? { statuses.first { $0.deployment == name } }
}

/// The state directory: one status file per deployment, written durably. Names are checked before
/// they become paths.
public struct StateStore: Sendable {
    public let directory: String
    /// Told about every write, when replicas share state through a lease table.
    public let changes: StateChanges?

    public init(directory: String, changes: StateChanges? = nil) {
        self.directory = directory
        self.changes = changes
    }

    /// `$RECLAW_STATE_DIR`, else `$XDG_STATE_HOME/reclaw`, else `~/.local/state/reclaw`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let d = environment["RECLAW_STATE_DIR"], !d.isEmpty { return d }
        if let x = environment["XDG_STATE_HOME"], !x.isEmpty { return x + "/reclaw" }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.local/state/reclaw"
    }

    var deploymentsDirectory: String { directory + "/deployments" }

    public func path(for deployment: String) -> String { "\(deploymentsDirectory)/\(deployment).json" }

    func checkedPath(_ deployment: String) throws(StateError) -> String {
        guard DeploymentName.isValid(deployment) else {
            throw StateError(.invalidName, "refusing to use \(deployment.debugDescription) as a state file name: it is not a deployment name")
        }
        return path(for: deployment)
    }

    /// The deployment's status, nil when it has none; throws when the file exists but cannot be read.
    public func load(_ deployment: String) throws(StateError) -> DeploymentStatus? {
        let path = try checkedPath(deployment)
        try PrivateFiles.checkNotLinked(deploymentsDirectory)
        guard let bytes = try PrivateFiles.read(path) else { return nil }
        let data = Data(bytes)
        do {
            let status = try Self.decoder.decode(DeploymentStatus.self, from: data)
            guard status.deployment == deployment else {
                throw StateError.corrupt("\(path) holds the status of \(status.deployment.debugDescription), not of \(deployment)", path: path)
            }
            return status
        } catch let error as StateError {
            throw error
        } catch {
            throw .corrupt("\(path) is not a readable status file: \(error)", path: path)
        }
    }

    public func save(_ status: DeploymentStatus) throws(StateError) {
        let path = try checkedPath(status.deployment)
        let data: Data
        do { data = try Self.encoder.encode(status) } catch { throw .io("cannot encode the status of \(status.deployment): \(error)", path: path) }
        try DurableFile.write(data, to: path)
        changes?.mark(status.deployment, .status)
    }

    public func remove(_ deployment: String) throws(StateError) {
        let path = try checkedPath(deployment)
        try PrivateFiles.remove(path)
        DurableFile.syncDirectory(deploymentsDirectory)
        changes?.mark(deployment, .status)
    }

    /// Every deployment with a status file; files that cannot be read are named, not hidden.
    public func scan() throws(StateError) -> StatusScan {
        var scan = StatusScan()
        let names: [String]
        try PrivateFiles.checkNotLinked(directory)
        try PrivateFiles.checkNotLinked(deploymentsDirectory)
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: deploymentsDirectory)
        } catch {
            if !FileManager.default.fileExists(atPath: deploymentsDirectory) { return scan }
            throw .io("the state directory \(deploymentsDirectory) cannot be listed: \(Self.reason(error))", path: deploymentsDirectory)
        }
        for file in names.sorted() where file.hasSuffix(".json") {
            let name = String(file.dropLast(5))
            do {
                if let status = try load(name) { scan.statuses.append(status) }
            } catch {
                scan.unreadable[name] = error
            }
        }
        return scan
    }

    /// Every status, failing when any cannot be read (for callers that must see them all).
    public func all() throws(StateError) -> [DeploymentStatus] {
        let scan = try scan()
        if let (_, error) = scan.unreadable.sorted(by: { $0.key < $1.key }).first { throw error }
        return scan.statuses
    }

    /// Loads, changes and saves one deployment's status.
    @discardableResult
    public func update(_ deployment: String, _ change: (inout DeploymentStatus) -> Void) throws(StateError) -> DeploymentStatus {
        var status = try load(deployment) ?? DeploymentStatus(deployment: deployment)
        change(&status)
        try save(status)
        return status
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return ns.localizedDescription
    }

    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}
