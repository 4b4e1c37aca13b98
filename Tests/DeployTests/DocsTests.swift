import Foundation
import ReclawTestSupport
import Testing

/// The documentation stands on its own: every link between its pages resolves in the repository,
/// and it cites no document the repository does not hold.
@Suite struct DocsTests {
    static let pages = ["README.md"] + ((try? FileManager.default.contentsOfDirectory(atPath: RepoPaths.path("docs"))) ?? [])
        .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }

    /// `[text](target)` links, without external URLs.
    func localLinks(_ text: String) -> [String] {
        var links: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "](") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: ")") else { break }
            let target = String(rest[..<close])
            rest = rest[close...]
            if target.contains("://") || target.hasPrefix("mailto:") { continue }
            links.append(target)
        }
        return links
    }

    @Test func everyLinkBetweenPagesResolves() throws {
        #expect(Self.pages.contains("docs/contracts.md") && Self.pages.contains("docs/plan-json.md"))
        for page in Self.pages {
            let text = try DeployFiles.text(page)
            let base = (page as NSString).deletingLastPathComponent
            for link in localLinks(text) {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let file = parts[0].isEmpty ? page : (base.isEmpty ? parts[0] : base + "/" + parts[0])
                #expect(FileManager.default.fileExists(atPath: RepoPaths.path(file)), "\(page) links to \(link), which is not in the repository")
                if parts.count == 2, file.hasSuffix(".md") {
                    let anchors = try DeployFiles.text(file).split(separator: "\n").filter { $0.hasPrefix("#") }.map { heading in
                        heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
                            .filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" }.replacingOccurrences(of: " ", with: "-")
                    }
                    #expect(anchors.contains(parts[1]), "\(page) links to \(link), a heading \(file) does not have")
                }
            }
        }
    }

    @Test func noPageCitesTheDesignNotesOutsideTheRepository() throws {
        for page in Self.pages + ["examples/openclaw-seed.yaml"] {
            let text = try DeployFiles.text(page)
            #expect(!text.contains("DESIGN"), "\(page) cites a design document the repository does not hold")
        }
    }

    @Test func thePlanJSONPageAndSchemaAgreeOnTheVersionAndTheTerraformTypes() throws {
        let page = try DeployFiles.text("docs/plan-json.md")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(DeployFiles.text("docs/plan-json.schema.json").utf8)) as? [String: Any])
        let properties = schema["properties"] as? [String: Any]
        let pattern = (properties?["format_version"] as? [String: Any])?["pattern"] as? String
        #expect(pattern == "^2\\.[0-9]+$" && page.hasPrefix("# Plan JSON, format 2.0") && page.contains("| 2.0 |"))
        let address = ((schema["definitions"] as? [String: Any])?["address_fields"] as? [String: Any])?["properties"] as? [String: Any]
        let types = try #require((address?["type"] as? [String: Any])?["enum"] as? [String])
        #expect(types.count == 10)
        for type in types { #expect(page.contains("`\(type)`"), "docs/plan-json.md does not name \(type)") }
        for example in ["examples/policies/reclaw.rego", "examples/policies/checkov.sh"] {
            #expect(FileManager.default.fileExists(atPath: RepoPaths.path(example)), "\(example) is missing")
        }
    }

    @Test func thePlanJSONSchemaIsItselfAValidSchema() async throws {
        try await Command.check(["python3", "-c", "import json, sys, jsonschema; jsonschema.Draft7Validator.check_schema(json.load(open(sys.argv[1])))",
                                 RepoPaths.path("docs/plan-json.schema.json")])
    }
}
