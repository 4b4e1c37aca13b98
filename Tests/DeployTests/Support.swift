import Foundation
import ReclawJSON
import ReclawTestSupport
import ReclawYAML

/// Reading the files under deploy/ and docs/ the way the tests check them.
enum DeployFiles {
    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: RepoPaths.path(relative), encoding: .utf8)
    }

    static func json(_ relative: String) throws -> JSONValue {
        try JSONValue.parse(try text(relative))
    }

    /// Every document of a YAML file, with scalars kept as the strings they were written as.
    static func yaml(_ relative: String) throws -> [JSONValue] {
        try YAMLParser().parse(try text(relative)).compactMap { $0.root.map(plain) }
    }

    static func plain(_ node: YAMLNode) -> JSONValue {
        switch node.content {
        case .scalar(let s): return s.isNull ? .null : .string(s.value)
        case .sequence(let items): return .array(items.map(plain))
        case .mapping(let pairs):
            return .object(Dictionary(pairs.map { ($0.key.scalar?.value ?? "", plain($0.value)) }, uniquingKeysWith: { a, _ in a }))
        }
    }
}

extension JSONValue {
    /// The value at a dotted path of object keys (`spec.template.spec`).
    func at(_ path: String) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(self)) { value, key in value?[String(key)] }
    }

    /// A string, or each string of a list: IAM's one-or-many fields.
    var strings: [String] {
        if let s = stringValue { return [s] }
        return arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// One pass of `reclaw run` with a deploy file's command line, against the emulator: `arguments`
/// come without the binary; `source` stands in for the example's repository, `secrets` holds
/// empty secret files under the names the deploy files use.
struct OnePass {
    let dir = TemporaryDirectory("reclaw-deploy")
    var source: String { dir.file("specs") }
    var secrets: String { dir.file("secrets") }

    init() {
        dir.write("specs/deployments/app.yaml", minimalSpec(uniqueName("deploy"), region: "eu-north-1"))
        for name in ["alert-webhooks", "git-credentials", "hook-secret"] { dir.write("secrets/" + name, "") }
    }

    func run(_ arguments: [String], environment: [String: String] = [:], once: Bool = true) async throws -> CommandResult {
        var env = Emulator.shared.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        for (k, v) in environment { env[k] = v }
        return try await Command.run([RepoPaths.reclawBinary] + arguments + (once ? ["--once"] : []), environment: env)
    }
}
