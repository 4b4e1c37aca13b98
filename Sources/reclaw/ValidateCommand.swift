import ArgumentParser
import Foundation
import Logging
import ReclawSpec

/// `reclaw validate`: parse and check spec files before they reach git or AWS.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Parse and check spec files; report every problem as path:line:col.")

    @Argument(help: "Files or directories to check (directories recursively, *.yaml and *.yml).")
    var paths: [String] = ["."]

    @Flag(help: "Print the result as one JSON document.")
    var json = false

    @OptionGroup var specPolicy: SpecPolicyOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrap()
        let logger = global.logger()
        // The same reader and loader as plan, apply and the daemon: links are not followed,
        // unreadable and over-large files are errors, near-miss documents are errors.
        var tree = SpecTree()
        var diagnostics: [Diagnostic] = []
        for path in paths {
            do {
                tree.merge(try SpecTree.read(directory: path))
            } catch {
                diagnostics.append(Diagnostic(.error, file: error.path, code: error.code.rawValue, error.message))
            }
        }
        let result = SpecLoader(policy: specPolicy.policy).load(tree)
        for skipped in result.skipped {
            logger.debug("skipped a document", metadata: ["file": "\(skipped.file)", "line": "\(skipped.line)", "reason": "\(skipped.reason)"])
        }
        diagnostics += result.diagnostics
        diagnostics.sort { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        if json {
            let report: JSONValue = [
                "files": .int(result.fileCount),
                "deployments": .array(result.deployments.map { .string($0.spec.name) }),
                "invalidDeployments": .array(result.invalidDeployments.keys.sorted().map { .string($0) }),
                "unreadableFiles": .object(result.unreadableFiles.mapValues { .string($0) }),
                "errors": .int(errors),
                "warnings": .int(warnings),
                "diagnostics": .array(diagnostics.map { d in
                    ["severity": .string(d.severity.rawValue), "file": .string(d.file), "line": d.hasPosition ? .int(d.line) : .null,
                     "column": d.hasPosition ? .int(d.column) : .null, "code": .string(d.code), "message": .string(d.message)]
                }),
            ]
            print(report.render(pretty: true))
        } else {
            for d in diagnostics { print(d) }
            let valid = result.deployments.count
            let unreadable = result.unreadableFiles.isEmpty ? "" : ", \(plural(result.unreadableFiles.count, "unreadable file"))"
            print("\(plural(result.fileCount, "file")) checked: \(plural(valid, "valid deployment")), \(plural(result.invalidDeployments.count, "invalid deployment"))\(unreadable); \(plural(errors, "error")), \(plural(warnings, "warning")).")
        }
        if errors > 0 { throw ExitCode(1) }
    }
}

/// `reclaw schema`: the spec's JSON Schema, for editors.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of OpenClawDeployment specs (for yaml-language-server and editors).")

    func run() throws {
        print(JSONSchemaWriter.document().render(pretty: true))
    }
}

func plural(_ n: Int, _ noun: String) -> String {
    "\(n) \(noun)\(n == 1 ? "" : "s")"
}
