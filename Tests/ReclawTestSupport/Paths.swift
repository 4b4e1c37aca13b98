import Foundation

/// Where things are in the repository, for tests that run scripts or read examples.
public enum RepoPaths {
    /// The repository root, found from this file's location.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The built `reclaw` binary next to the test bundle.
    public static var reclawBinary: String {
        if let explicit = ProcessInfo.processInfo.environment["RECLAW_BINARY"] { return explicit }
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [bundle.appendingPathComponent("reclaw").path, root + "/.build/debug/reclaw"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return root + "/.build/debug/reclaw"
    }
}

/// A directory that exists for one test and is removed afterwards.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ prefix: String = "reclaw-test") {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    public func write(_ name: String, _ contents: String) -> String {
        let p = file(name)
        try? FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! contents.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }
}

/// The smallest valid deployment spec, with optional extra lines under `spec:` (indented by two).
public func minimalSpec(_ name: String, region: String, version: String = "2026.2.3", extra: String = "") -> String {
    """
    apiVersion: reclaw.dev/v1alpha1
    kind: OpenClawDeployment
    metadata: {name: \(name)}
    spec:
      region: \(region)
      openclaw: {version: "\(version)"}
    \(extra)
    """
}
