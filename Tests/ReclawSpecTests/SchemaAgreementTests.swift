import Foundation
import Testing
import ReclawSpec

/// The printed JSON Schema and the decoder come from one description; these tests keep them honest.
@Suite struct SchemaAgreementTests {
    /// A valid sample for every string-typed field; a field added without one fails the test below.
    static let samples: [String: String] = [
        "metadata.name": "full", "spec.region": "eu-west-1", "spec.roleArn": "arn:aws:iam::111122223333:role/reclaw-deployer",
        "spec.network.vpcCidr": "10.8.0.0/16", "spec.network.publicSubnetCidr": "10.8.1.0/24",
        "spec.network.privateSubnetCidr": "10.8.2.0/24", "spec.network.availabilityZone": "eu-west-1b",
        "spec.instance.type": "c7g.large", "spec.instance.image": "ami-0123456789abcdef0", "spec.instance.sshCidr": "203.0.113.0/24",
        "spec.instance.keyName": "ops-key", "spec.openclaw.version": "2026.2.3", "spec.openclaw.model": "eu.amazon.nova-pro-v1:0",
        "spec.iam.managedPolicies[]": "CloudWatchAgentServerPolicy", "spec.tags{}": "v",
    ]

    /// Writes a YAML document that sets every property the schema has.
    static func fullDocument(_ type: SchemaType, path: String, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        switch type {
        case .object(let properties):
            return properties.map { p in
                let child = path.isEmpty ? p.name : path + "." + p.name
                switch p.type {
                case .object, .map: return pad + p.name + ":\n" + fullDocument(p.type, path: child, indent: indent + 2)
                default: return pad + p.name + ": " + fullDocument(p.type, path: child, indent: indent + 2)
                }
            }.joined(separator: "\n")
        case .map(let value, _, _, _):
            return pad + "Owner: " + fullDocument(value, path: path + "{}", indent: indent)
        case .array(let item, _, _):
            return "[" + fullDocument(item, path: path + "[]", indent: 0) + "]"
        case .enumeration(let values): return values.last!
        case .integer(let minimum, _): return String(minimum + 1)
        case .boolean: return "true"
        case .string: return "\"" + (samples[path] ?? "MISSING-SAMPLE-\(path)") + "\""
        }
    }

    /// Every object path in the schema, with its properties.
    static func objects(_ type: SchemaType, path: String = "") -> [(String, [SchemaProperty])] {
        guard case .object(let properties) = type else { return [] }
        return [(path, properties)] + properties.flatMap { objects($0.type, path: path.isEmpty ? $0.name : path + "." + $0.name) }
    }

    @Test func aDocumentSettingEverySchemaPropertyIsAccepted() throws {
        let text = Self.fullDocument(SpecSchema.document, path: "", indent: 0)
        #expect(!text.contains("MISSING-SAMPLE"), "\(text)")
        let result = load(text)
        #expect(result.errors.isEmpty, "\(result.errors)\n\(text)")
        let spec = try #require(result.deployments.first?.spec)
        #expect(spec.instance.image == "ami-0123456789abcdef0")
        #expect(spec.iam.managedPolicies == ["CloudWatchAgentServerPolicy"])
        #expect(spec.tags == ["Owner": "v"])
        #expect(spec.policy.drift == .alert && spec.policy.allowReplace)
    }

    @Test func everyObjectRefusesAnUnknownKeyAndEveryRequiredKeyIsEnforced() {
        let full = Self.fullDocument(SpecSchema.document, path: "", indent: 0)
        for (path, properties) in Self.objects(SpecSchema.document) {
            // Insert an unknown key right after the object's first property line.
            let first = properties[0].name
            let depth = path.isEmpty ? 0 : path.split(separator: ".").count
            let pad = String(repeating: " ", count: depth * 2)
            let marker = "\n" + pad + first + ":"
            let withUnknown = (path.isEmpty ? pad + "zzzUnknown: 1\n" + full : full.replacingOccurrences(of: marker, with: "\n" + pad + "zzzUnknown: 1" + marker))
            let errors = load(withUnknown).errors
            #expect(errors.contains { $0.code == "unknown-key" && $0.message.contains("'zzzUnknown'") }, "\(path): \(errors)")
            for p in properties where p.required {
                let lines = full.split(separator: "\n", omittingEmptySubsequences: false)
                guard let start = lines.firstIndex(where: { $0 == pad + p.name + ":" || $0.hasPrefix(pad + p.name + ": ") }) else { continue }
                var end = start + 1
                while end < lines.count && lines[end].hasPrefix(pad + " ") { end += 1 }
                let without = (lines[..<start] + lines[end...]).joined(separator: "\n")
                let errors = load(without).errors
                // Even without its kind, a document with reclaw's apiVersion is reclaw's, never skipped.
                #expect(errors.contains { $0.code == "missing-key" && $0.message.contains("'\(p.name)'") }, "\(path).\(p.name): \(errors)")
            }
        }
    }

    @Test func everyLeafRefusesAValueOfTheWrongType() {
        let full = Self.fullDocument(SpecSchema.document, path: "", indent: 0)
        let lines = full.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() where line.contains(": ") && !line.hasPrefix("apiVersion") && !line.hasPrefix("kind") {
            var copy = lines
            copy[i] = line.split(separator: ":", maxSplits: 1)[0] + ": {nested: mapping}"
            let errors = load(copy.joined(separator: "\n")).errors
            #expect(errors.contains { $0.code == "wrong-type" }, "\(line): \(errors)")
        }
    }

    /// Values JSON Schema can judge: CIDR syntax and prefix lengths, tag key rules, unpinned
    /// versions, the name's pattern. Editors and reclaw must give the same verdict.
    static let valueCases: [(String, String, Bool)] = [
        ("  network: {vpcCidr: 10.0.0.0/16}", "vpc /16", true),
        ("  network: {vpcCidr: 10.0.0.0/12}", "vpc /12", false),
        ("  network: {vpcCidr: 10.0.0.0/29, publicSubnetCidr: 10.0.0.0/29, privateSubnetCidr: 10.0.0.0/29}", "vpc /29", false),
        ("  network: {vpcCidr: 256.0.0.0/16}", "octet 256", false),
        ("  network: {vpcCidr: 010.0.0.0/16}", "leading zero", false),
        ("  network: {vpcCidr: 10.0.0.0/16, publicSubnetCidr: 10.0.1.0/24, privateSubnetCidr: 10.0.2.0/30}", "subnet /30", false),
        ("  instance: {sshCidr: 203.0.113.7/32}", "ssh /32", true),
        ("  instance: {sshCidr: 203.0.113.7/33}", "ssh /33", false),
        ("  instance: {sshCidr: 203.0.113.0}", "ssh without prefix", false),
        ("  tags: {Team: platform, CostCenter: '42'}", "plain tags", true),
        ("  tags: {'aws:owner': x}", "aws: prefix", false),
        ("  tags: {'AWS:owner': x}", "AWS: prefix", false),
        ("  tags: {'Reclaw:deployment': x}", "reclaw: prefix", false),
        ("  tags: {Name: x}", "Name", false),
        ("  tags: {'': x}", "empty key", false),
        ("  tags: {\(String(repeating: "k", count: 129)): x}", "129-character key", false),
        ("  tags: {' reclaw:x': v}", "reclaw: prefix after a space", false),
        ("  tags: {'  AWS:x': v}", "AWS: prefix after spaces", false),
        ("  tags: {' Name ': v}", "Name between spaces", false),
        ("  tags: {' Team': v}", "a plain key after a space", true),
        ("  tags: {team: 5, on: true}", "number and boolean tag values", true),
        ("  tags: {'bad<key>': x}", "a key with <", false),
        ("  tags: {team: 'x;y'}", "a value with ;", false),
        ("  network: {vpcCidr: 10.0.0.1/16}", "vpc host bits", false),
        ("  instance: {sshCidr: 10.1.2.3/16}", "ssh host bits", false),
        ("  tags: {\((1...45).map { "k\($0): v" }.joined(separator: ", "))}", "45 tags", true),
        ("  tags: {\((1...46).map { "k\($0): v" }.joined(separator: ", "))}", "46 tags", false),
    ]

    static let versionCases: [(String, Bool)] = [("2026.2.3", true), ("latest", false), ("Latest", false), ("NEXT", false), ("^2026.2", false), ("2026.2.x-rc1", true)]

    @Test func thePrintedSchemaAndTheValidatorGiveTheSameVerdictOnFormats() throws {
        var documents: [(String, String, Bool)] = Self.valueCases.map { (document(name: "fmt", $0.0), $0.1, $0.2) }
        documents += Self.versionCases.map { (document(name: "fmt").replacingOccurrences(of: "\"2026.2.3\"", with: "'\($0.0)'"), "version \($0.0)", $0.1) }
        documents += [(document(name: "Team_A"), "name Team_A", false), (document(name: "a"), "name a", false)]
        let dir = NSTemporaryDirectory() + "reclaw-formats-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try JSONSchemaWriter.document().render(pretty: true).write(toFile: dir + "/schema.json", atomically: true, encoding: .utf8)
        for (i, d) in documents.enumerated() { try d.0.write(toFile: dir + "/\(i).yaml", atomically: true, encoding: .utf8) }
        let script = """
        import json, sys, yaml, jsonschema
        v = jsonschema.Draft7Validator(json.load(open(sys.argv[1])))
        for path in sys.argv[2:]:
            doc = json.loads(json.dumps(yaml.safe_load(open(path)), default=str))
            print("valid" if v.is_valid(doc) else "invalid")
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, dir + "/schema.json"] + documents.indices.map { dir + "/\($0).yaml" }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let verdicts = out.split(separator: "\n").map { $0 == "valid" }
        #expect(verdicts.count == documents.count)
        for (i, (text, what, valid)) in documents.enumerated() where i < verdicts.count {
            let errors = load(text).errors
            #expect(errors.isEmpty == valid, "reclaw on \(what): \(errors)")
            #expect(verdicts[i] == valid, "the JSON Schema on \(what)")
        }
    }
}
