import Foundation
import ReclawYAML

/// A file's path and contents, from a directory or from a git tree.
public struct SpecFile: Sendable, Hashable {
    public var path: String
    public var bytes: [UInt8]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }
}

/// A document the loader passed over, with why (for debug logs).
public struct SkippedDocument: Sendable, Hashable {
    public var file: String
    public var line: Int
    public var reason: String
}

/// Everything loading a set of files found: the valid deployments, every diagnostic, and which
/// deployments and files are invalid (so a reconciler can leave them exactly as they were).
public struct SpecLoadResult: Sendable {
    public var deployments: [LoadedDeployment] = []
    public var diagnostics: [Diagnostic] = []
    /// Deployments whose documents have errors, by name.
    public var invalidDeployments: [String: [Diagnostic]] = [:]
    /// Files with errors that could not be tied to a deployment name (syntax errors, say).
    public var filesWithErrors: Set<String> = []
    public var skipped: [SkippedDocument] = []
    public var fileCount = 0

    public init() {}

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Reads spec files: YAML parse, schema check, semantic checks, defaults, and name uniqueness
/// across the whole repository.
public struct SpecLoader: Sendable {
    public var parser: YAMLParser

    public init(parser: YAMLParser = YAMLParser()) {
        self.parser = parser
    }

    /// Whether a path is one reclaw reads (`*.yaml`, `*.yml`).
    public static func isSpecPath(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    /// The spec files under a file or directory, recursively, skipping hidden directories.
    public static func files(at path: String) throws -> [SpecFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SpecPathError(path: path, message: "no such file or directory")
        }
        if !isDirectory.boolValue {
            return [SpecFile(path: path, bytes: try readBytes(path))]
        }
        var out: [SpecFile] = []
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            guard isSpecPath(relative) else { continue }
            let full = base == "." ? relative : base + "/" + relative
            var dir: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue {
                out.append(SpecFile(path: full, bytes: try readBytes(full)))
            }
        }
        return out.sorted { $0.path < $1.path }
    }

    private static func readBytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecPathError(path: path, message: "cannot be read")
        }
        return Array(data)
    }

    /// Loads every file; nothing is thrown, everything wrong becomes a diagnostic.
    public func load(_ files: [SpecFile]) -> SpecLoadResult {
        var result = SpecLoadResult()
        result.fileCount = files.count
        var candidates: [(LoadedDeployment?, String, SpecLocation, [Diagnostic])] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            var sink = DiagnosticSink(file: file.path)
            let documents: [YAMLDocument]
            do {
                documents = try parser.parse(bytes: file.bytes)
            } catch {
                sink.error(error.mark ?? SourceMark(line: 1, column: 1), "yaml-\(error.code.rawValue)", error.message)
                result.diagnostics += sink.items
                result.filesWithErrors.insert(file.path)
                continue
            }
            if documents.allSatisfy({ $0.root == nil }) {
                sink.error(SourceMark(line: 1, column: 1), "empty-file", "the file is empty: it holds no YAML document")
                result.diagnostics += sink.items
                result.filesWithErrors.insert(file.path)
                continue
            }
            for document in documents {
                guard let root = document.root else { continue }
                var docSink = DiagnosticSink(file: file.path)
                switch identify(root) {
                case .skip(let reason):
                    result.skipped.append(SkippedDocument(file: file.path, line: root.mark.line, reason: reason))
                    continue
                case .unsupportedVersion(let version, let mark):
                    docSink.warning(mark, "unsupported-api-version",
                                    "apiVersion \(version) is not supported by this reclaw (it reads \(SpecSchema.apiVersion)); the document is skipped")
                    result.skipped.append(SkippedDocument(file: file.path, line: root.mark.line, reason: "apiVersion \(version)"))
                    result.diagnostics += docSink.items
                    continue
                case .deployment:
                    break
                }
                var decoder = SchemaDecoder(sink: docSink)
                let decoded = decoder.decode(root, as: SpecSchema.document, path: "")
                var validator = SpecValidator(sink: decoder.sink)
                if let decoded { validator.check(decoded) }
                docSink = validator.sink
                let nameValue = decoded?.at("metadata.name")
                let name = nameValue?.string ?? root.mapping?.first { $0.key.scalar?.value == "metadata" }?.value.mapping?
                    .first { $0.key.scalar?.value == "name" }?.value.scalar?.value
                let mark = nameValue?.mark ?? root.mark
                let location = SpecLocation(file: file.path, line: mark.line, column: mark.column)
                if let name {
                    let loaded = (!docSink.hasErrors ? decoded.flatMap { build($0) } : nil).map { LoadedDeployment(spec: $0, location: location) }
                    candidates.append((loaded, name, location, docSink.items))
                } else if docSink.hasErrors {
                    result.filesWithErrors.insert(file.path)
                }
                result.diagnostics += docSink.items
            }
        }
        // Names are unique across the repository; every holder of a repeated name is invalid.
        let byName = Dictionary(grouping: candidates, by: { $0.1 })
        for (name, group) in byName.sorted(by: { $0.key < $1.key }) {
            if group.count > 1 {
                let first = group[0].2
                for other in group.dropFirst() {
                    let d = Diagnostic(.error, file: other.2.file, mark: SourceMark(line: other.2.line, column: other.2.column),
                                       code: "duplicate-name", "deployment name '\(name)' is already used at \(first)")
                    result.diagnostics.append(d)
                    result.invalidDeployments[name, default: []].append(d)
                }
                result.invalidDeployments[name, default: []] += group.flatMap { $0.3.filter { $0.severity == .error } }
                continue
            }
            let (loaded, _, _, diagnostics) = group[0]
            if let loaded {
                result.deployments.append(loaded)
            } else {
                result.invalidDeployments[name] = diagnostics.filter { $0.severity == .error }
            }
        }
        result.deployments.sort { $0.spec.name < $1.spec.name }
        return result
    }

    private enum Identity {
        case deployment
        case skip(String)
        case unsupportedVersion(String, SourceMark)
    }

    private func identify(_ root: YAMLNode) -> Identity {
        guard let pairs = root.mapping else { return .skip("not a mapping") }
        let kind = pairs.first { $0.key.scalar?.value == "kind" }?.value.scalar?.value
        let version = pairs.first { $0.key.scalar?.value == "apiVersion" }
        guard kind == SpecSchema.kind else { return .skip("kind \(kind ?? "(none)")") }
        guard let v = version?.value.scalar?.value else { return .deployment }  // the schema reports it missing
        if v == SpecSchema.apiVersion { return .deployment }
        if v.hasPrefix("reclaw.dev/") { return .unsupportedVersion(v, version!.value.mark) }
        return .skip("apiVersion \(v)")
    }

    /// The typed spec with defaults, from a document that passed every check.
    private func build(_ doc: MarkedValue) -> DeploymentSpec? {
        guard let name = doc.at("metadata.name")?.string, let spec = doc["spec"], let region = spec["region"]?.string,
              let version = spec.at("openclaw.version")?.string else { return nil }
        let n = spec["network"], i = spec["instance"], o = spec["openclaw"], a = spec["iam"], p = spec["policy"]
        return DeploymentSpec(
            name: name,
            region: region,
            roleArn: spec["roleArn"]?.string,
            network: .init(
                region: region,
                vpcCidr: n?["vpcCidr"]?.string,
                publicSubnetCidr: n?["publicSubnetCidr"]?.string,
                privateSubnetCidr: n?["privateSubnetCidr"]?.string,
                availabilityZone: n?["availabilityZone"]?.string,
                vpcEndpoints: n?["vpcEndpoints"]?.array?.compactMap(\.string)),
            instance: .init(
                type: i?["type"]?.string,
                image: i?["image"]?.string,
                rootVolumeGiB: i?["rootVolumeGiB"]?.int,
                sshCidr: i?["sshCidr"]?.string,
                keyName: i?["keyName"]?.string),
            openclaw: .init(version: version, model: o?["model"]?.string, gatewayPort: o?["gatewayPort"]?.int),
            iam: .init(
                managedPolicies: a?["managedPolicies"]?.array?.compactMap(\.string),
                marketplaceSubscribe: a?["marketplaceSubscribe"]?.bool),
            tags: spec["tags"]?.object?.compactMapValues(\.string) ?? [:],
            policy: .init(
                drift: p?["drift"]?.string.flatMap(DeploymentSpec.Policy.Drift.init(rawValue:)),
                allowReplace: p?["allowReplace"]?.bool))
    }
}

/// A path given to the loader that does not exist or cannot be read.
public struct SpecPathError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
