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
/// deployments and files are invalid or unreadable, so a reconciler can leave alone everything
/// they might hold.
public struct SpecLoadResult: Sendable {
    public var deployments: [LoadedDeployment] = []
    public var diagnostics: [Diagnostic] = []
    /// Deployments whose documents have errors, by name. Only valid deployment names appear here
    /// (they are safe as file names and log values); a document whose name is missing or invalid
    /// makes its file unreadable instead.
    public var invalidDeployments: [String: [Diagnostic]] = [:]
    /// Files that may hold deployments reclaw cannot see, with why: unreadable, a link, too large,
    /// a YAML syntax error, empty, a document that is almost reclaw's (a misspelled `kind`,
    /// another `apiVersion` of reclaw.dev), a deployment without a valid name. Nothing they might
    /// hold may be destroyed.
    public var unreadableFiles: [String: String] = [:]
    /// Files holding documents reclaw does not manage (another kind and API group): those are
    /// skipped, but the file still exists as far as pruning is concerned.
    public var unmanagedFiles: Set<String> = []
    /// Every spec-named path of the source in any form, readable or not.
    public var paths: Set<String> = []
    /// The file each deployment name (valid or invalid) was read from; for a name used twice, the
    /// first file by path.
    public var fileOf: [String: String] = [:]
    public var skipped: [SkippedDocument] = []
    public var fileCount = 0

    public init() {}

    /// The files with errors no deployment name can be tied to: the keys of `unreadableFiles`.
    public var filesWithErrors: Set<String> { Set(unreadableFiles.keys) }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Reads spec files: YAML parse, schema check, semantic checks, the operator's policy, defaults,
/// and name uniqueness across the whole repository.
public struct SpecLoader: Sendable {
    public var parser: YAMLParser
    public var policy: SpecPolicy

    public init(parser: YAMLParser = YAMLParser(), policy: SpecPolicy = SpecPolicy()) {
        self.parser = parser
        self.policy = policy
    }

    /// Whether a path is one reclaw reads (`*.yaml`, `*.yml`).
    public static func isSpecPath(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    /// Loads a source tree: its files, and its unreadable entries as file-level errors.
    public func load(_ tree: SpecTree) -> SpecLoadResult {
        var result = load(tree.files)
        for (path, reason) in tree.unreadable.sorted(by: { $0.key < $1.key }) {
            result.unreadableFiles[path] = reason
            result.diagnostics.append(Diagnostic(.error, file: path, code: "unreadable-file", reason))
        }
        result.paths = tree.paths
        result.fileCount += tree.unreadable.count
        return result
    }

    /// Loads every file; nothing is thrown, everything wrong becomes a diagnostic.
    public func load(_ files: [SpecFile]) -> SpecLoadResult {
        var result = SpecLoadResult()
        result.fileCount = files.count
        result.paths = Set(files.map(\.path))
        var candidates: [(LoadedDeployment?, String, SpecLocation, [Diagnostic])] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            var sink = DiagnosticSink(file: file.path)
            let documents: [YAMLDocument]
            do {
                documents = try parser.parse(bytes: file.bytes)
            } catch {
                if let mark = error.mark {
                    sink.error(mark, "yaml-\(error.code.rawValue)", error.message)
                } else {
                    sink.items.append(Diagnostic(.error, file: file.path, code: "yaml-\(error.code.rawValue)", error.message))
                }
                result.diagnostics += sink.items
                result.unreadableFiles[file.path] = Self.reason(sink.items)
                continue
            }
            if documents.allSatisfy({ $0.root == nil }) {
                sink.error(SourceMark(line: 1, column: 1), "empty-file", "the file is empty: it holds no YAML document")
                result.diagnostics += sink.items
                result.unreadableFiles[file.path] = Self.reason(sink.items)
                continue
            }
            for document in documents {
                guard let root = document.root else { continue }
                var docSink = DiagnosticSink(file: file.path)
                switch DocumentIdentity(root) {
                case .foreign(let reason):
                    let hidden = HiddenSpec.find(in: root)
                    if !hidden.isEmpty {
                        report(hidden, file: file.path, into: &result, candidates: &candidates)
                        continue
                    }
                    result.skipped.append(SkippedDocument(file: file.path, line: root.mark.line, reason: reason))
                    result.unmanagedFiles.insert(file.path)
                    continue
                case .nearMiss(let mark, let code, let message):
                    docSink.error(mark, code, message)
                    result.diagnostics += docSink.items
                    result.unreadableFiles[file.path] = result.unreadableFiles[file.path] ?? Self.reason(docSink.items)
                    continue
                case .deployment:
                    break
                }
                var decoder = SchemaDecoder(sink: docSink)
                let decoded = decoder.decode(root, as: SpecSchema.document, path: "")
                var validator = SpecValidator(sink: decoder.sink, policy: policy)
                if let decoded { validator.check(decoded) }
                docSink = validator.sink
                let nameValue = decoded?.at("metadata.name")
                let name = nameValue?.string ?? root.mapping?.first { $0.key.scalar?.value == "metadata" }?.value.mapping?
                    .first { $0.key.scalar?.value == "name" }?.value.scalar?.value
                let mark = nameValue?.mark ?? root.mark
                let location = SpecLocation(file: file.path, line: mark.line, column: mark.column)
                if let name, SpecValidator.isValidName(name) {
                    let loaded = (!docSink.hasErrors ? decoded.flatMap { build($0) } : nil).map { LoadedDeployment(spec: $0, location: location) }
                    candidates.append((loaded, name, location, docSink.items))
                } else {
                    // Without a valid name nothing may be done in the deployment's name (an invalid
                    // one is never a file name or a log key): the file counts as unreadable.
                    let why = name.map { "it holds a deployment whose metadata.name \(SafeText.quoted($0)) is not a valid name" }
                        ?? "it holds a deployment without a metadata.name"
                    result.unreadableFiles[file.path] = result.unreadableFiles[file.path] ?? why
                }
                result.diagnostics += docSink.items
            }
        }
        // Names are unique across the repository; every holder of a repeated name is invalid.
        let byName = Dictionary(grouping: candidates, by: { $0.1 })
        for (name, group) in byName.sorted(by: { $0.key < $1.key }) {
            result.fileOf[name] = group.map(\.2.file).min()
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

    /// Each hidden spec is an error at its place. Its file counts as unreadable (it may hold
    /// deployments, so nothing is pruned), and a hidden deployment with a valid name is an invalid
    /// deployment of that name: left as it is, and reported as invalid.
    private func report(_ hidden: [HiddenSpec], file: String, into result: inout SpecLoadResult,
                        candidates: inout [(LoadedDeployment?, String, SpecLocation, [Diagnostic])]) {
        for spec in hidden {
            let d = Diagnostic(.error, file: file, mark: spec.node.mark, code: "hidden-spec", spec.message)
            result.diagnostics.append(d)
            result.unreadableFiles[file] = result.unreadableFiles[file] ?? Self.reason([d])
            if let name = spec.name, SpecValidator.isValidName(name) {
                candidates.append((nil, name, SpecLocation(file: file, line: spec.node.mark.line, column: spec.node.mark.column), [d]))
            }
        }
    }

    /// Why a file is unreadable, from its first error: `line 3, column 1: message`.
    static func reason(_ diagnostics: [Diagnostic]) -> String {
        guard let d = diagnostics.first(where: { $0.severity == .error }) else { return "it has errors" }
        return d.hasPosition ? "line \(d.line), column \(d.column): \(d.message)" : d.message
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

