import Foundation
import Testing
import ReclawSpec

/// `reclaw schema` and `reclaw validate` judge every example, every invalid fixture and the
/// shapes of UntrustedShapeTests document by document, and agree, except where
/// docs/spec-reference.md lists a check JSON Schema cannot make.
extension SchemaAgreementTests {
    /// One document's verdicts: the schema's (nil: no document for it to judge) and reclaw's errors.
    struct Verdict {
        var file: String, line: Int
        var schema: String
        var codes: [String]
    }

    /// The codes of the checks the reference lists as beyond JSON Schema: the first column of the
    /// table under "Where the schema is looser than validate".
    static func documentedExceptions() throws -> Set<String> {
        let markdown = try String(contentsOfFile: repoRoot + "/docs/spec-reference.md", encoding: .utf8)
        let section = try #require(markdown.components(separatedBy: "## Where the schema is looser than validate").dropFirst().first)
        let body = section.components(separatedBy: "\n## ")[0]
        return Set(body.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.split(separator: "`")[1].description
        })
    }

    /// Inline fixtures beside the files: hidden specs, other YAML, tag values and CIDRs.
    static var inlineFixtures: [(String, String)] {
        var out = UntrustedShapeTests.wrappers.enumerated().map { ("inline/wrapped-\($0.offset).yaml", $0.element.1) }
        out += [
            ("inline/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n"),
            ("inline/list-of-scalars.yaml", "- a\n- b: {c: d}\n"),
            ("inline/pod.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"),
            ("inline/no-identity.yaml", "metadata: {name: alpha}\nspec: {region: us-east-1}\n"),
            ("inline/case-kind.yaml", document().replacingOccurrences(of: "apiVersion: reclaw.dev/v1alpha1\nkind: OpenClawDeployment", with: "apiVersion: example.com/v1\nkind: openclawdeployment")),
            ("inline/other-group.yaml", "apiVersion: Reclaw.io/v1\nkind: Thing\nmetadata: {name: x}\n"),
            ("inline/tag-number.yaml", document("  tags: {team: 5, on: true, ratio: 1.10}")),
            ("inline/tag-key-characters.yaml", document("  tags: {'bad<key>': x}")),
            ("inline/tag-value-characters.yaml", document("  tags: {team: 'a;b'}")),
            ("inline/vpc-host-bits.yaml", document("  network: {vpcCidr: 10.0.0.1/16}")),
            ("inline/subnet-host-bits.yaml", document("  network: {publicSubnetCidr: 10.0.1.128/24}")),
            ("inline/ssh-host-bits.yaml", document("  instance: {sshCidr: 203.0.113.7/24}")),
            ("inline/ssh-exact.yaml", document("  instance: {sshCidr: 203.0.113.64/26}")),
        ]
        return out
    }

    /// Every spec file under examples/, with the files each names in `# expect-with:`.
    static func exampleFiles() throws -> [(String, [SpecFile])] {
        let root = repoRoot + "/examples"
        let paths = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter(SpecLoader.isSpecPath).sorted()
        return try paths.map { relative in
            let path = "examples/" + relative
            let text = try String(contentsOfFile: repoRoot + "/" + path, encoding: .utf8)
            var files = [SpecFile(path: path, text: text)]
            for line in text.split(separator: "\n") where line.hasPrefix("# expect-with: ") {
                let other = (path as NSString).deletingLastPathComponent + "/" + line.dropFirst("# expect-with: ".count)
                files.append(SpecFile(path: other, text: try String(contentsOfFile: repoRoot + "/" + other, encoding: .utf8)))
            }
            return (path, files)
        }
    }

    static let judge = """
    import json, sys, yaml, jsonschema
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft7Validator.check_schema(schema)
    v = jsonschema.Draft7Validator(schema)
    for i, path in enumerate(sys.argv[2:]):
        docs = []
        try:
            loader = yaml.SafeLoader(open(path).read())
            try:
                while loader.check_node():
                    node = loader.get_node()
                    docs.append((node.start_mark.line + 1, loader.construct_document(node)))
            finally:
                loader.dispose()
        except yaml.YAMLError:
            print(i, 0, "unparseable")
            continue
        docs = [d for d in docs if d[1] is not None]
        if not docs:
            print(i, 0, "none")
        for line, data in docs:
            print(i, line, "valid" if v.is_valid(json.loads(json.dumps(data, default=str))) else "invalid")
    """

    /// Runs the printed schema over `texts` with Python's jsonschema: (file index, line, verdict).
    static func schemaVerdicts(_ texts: [String]) throws -> [(Int, Int, String)] {
        let dir = NSTemporaryDirectory() + "reclaw-verdicts-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try JSONSchemaWriter.document().render(pretty: true).write(toFile: dir + "/schema.json", atomically: true, encoding: .utf8)
        for (i, text) in texts.enumerated() { try text.write(toFile: dir + "/\(i).yaml", atomically: true, encoding: .utf8) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", judge, dir + "/schema.json"] + texts.indices.map { dir + "/\($0).yaml" }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return out.split(separator: "\n").map { line in
            let f = line.split(separator: " ")
            return (Int(f[0]) ?? -1, Int(f[1]) ?? -1, String(f[2]))
        }
    }

    /// Per document: the schema's verdict and the codes of reclaw's errors in that document
    /// (from its first line to the next document's).
    static func verdicts() throws -> [Verdict] {
        var cases = try exampleFiles()
        cases += inlineFixtures.map { ($0.0, [SpecFile(path: $0.0, text: $0.1)]) }
        let judged = try schemaVerdicts(cases.map { String(decoding: $0.1[0].bytes, as: UTF8.self) })
        var out: [Verdict] = []
        for (index, (path, files)) in cases.enumerated() {
            let errors = SpecLoader().load(files).errors.filter { $0.file == path }
            let documents = judged.filter { $0.0 == index }
            let starts = documents.map(\.1)
            for (n, document) in documents.enumerated() {
                let end = n + 1 < starts.count ? starts[n + 1] : Int.max
                let mine = errors.filter { n == 0 && $0.line < end || ($0.line >= document.1 && $0.line < end) }
                out.append(Verdict(file: path, line: document.1, schema: document.2, codes: mine.map(\.code)))
            }
        }
        return out
    }

    @Test func theSchemaAndValidateAgreeOnEveryDocumentOfEveryExampleAndFixture() throws {
        let exceptions = try Self.documentedExceptions()
        #expect(!exceptions.isEmpty)
        let all = try Self.verdicts()
        #expect(all.count > 40, "\(all.count) documents judged")
        var skipped: [String] = []
        for v in all {
            let schemaAccepts = v.schema == "valid" || v.schema == "none"
            guard schemaAccepts != v.codes.isEmpty else { continue }
            // Only a document reclaw refuses for listed reasons alone may pass the schema.
            let listed = schemaAccepts && !v.codes.isEmpty && Set(v.codes).isSubset(of: exceptions)
            #expect(listed, "\(v.file):\(v.line): the schema says \(v.schema), validate reports \(v.codes)")
            if listed { skipped.append("\(v.file):\(v.line) \(v.codes)") }
        }
        // Every listed exception but the operator's policy list is met by a fixture, and no other.
        #expect(skipped == [
            "examples/invalid/duplicate-key.yaml:2 [\"duplicate-key\"]", "examples/invalid/duplicate-name-2.yaml:3 [\"duplicate-name\"]",
            "examples/invalid/empty.yaml:0 [\"empty-file\"]", "examples/invalid/instance.yaml:18 [\"architecture-mismatch\"]",
            "examples/invalid/network.yaml:18 [\"subnet-outside-vpc\", \"zone-region\"]", "examples/invalid/network.yaml:39 [\"subnet-overlap\"]",
        ], "\(skipped)")
        // The inline fixtures get the verdicts they were written for.
        let inline = Dictionary(all.filter { $0.file.hasPrefix("inline/") }.map { ($0.file, $0.schema) }, uniquingKeysWith: { a, _ in a })
        for accepted in ["configmap", "list-of-scalars", "pod", "tag-number", "ssh-exact"] {
            #expect(inline["inline/\(accepted).yaml"] == "valid", "\(accepted)")
        }
        for refused in ["wrapped-0", "wrapped-1", "wrapped-2", "no-identity", "case-kind", "other-group", "tag-key-characters", "tag-value-characters",
                        "vpc-host-bits", "subnet-host-bits", "ssh-host-bits"] {
            #expect(inline["inline/\(refused).yaml"] == "invalid", "\(refused)")
        }
    }

    @Test func theCIDRPatternsRefuseHostBitsExactlyAsReclawDoes() throws {
        for (pattern, prefixes) in [(SpecSchema.cidrPattern, 0...32), (SpecSchema.networkCidrPattern, 16...28)] {
            let regex = try NSRegularExpression(pattern: pattern)
            for prefix in 0...32 {
                let position = min(max((prefix - 1) / 8, 0), 3)
                for value in 0...255 {
                    var octets = [10, 20, 30, 40].enumerated().map { $0.offset < position ? $0.element : 0 }
                    octets[position] = value
                    let text = octets.map(String.init).joined(separator: ".") + "/\(prefix)"
                    let matched = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                    let valid = CIDR(text).map { !$0.hasHostBits && prefixes.contains($0.prefix) } ?? false
                    #expect(matched == valid, "\(text) against \(prefixes)")
                }
            }
        }
    }
}
