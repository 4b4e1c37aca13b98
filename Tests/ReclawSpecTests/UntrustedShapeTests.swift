import Foundation
import ReclawSpec
import Testing

/// A file's shape and a spec's tags are claims: a deployment wrapped in a list is still reclaw's,
/// and the tag limit leaves room for every tag reclaw adds.
@Suite struct UntrustedShapeTests {
    /// The lines of a deployment, to be indented under a wrapper.
    static func body(_ name: String = "wrapped", indent: String) -> String {
        ["apiVersion: reclaw.dev/v1alpha1", "kind: OpenClawDeployment", "metadata: {name: \(name)}",
         "spec: {region: us-east-1, openclaw: {version: '1.0'}}"].joined(separator: "\n" + indent) + "\n"
    }

    static let wrappers: [(String, String, Int, Int)] = [
        ("a top-level list", "- " + body(indent: "  "), 1, 3),
        ("a List's items", "apiVersion: v1\nkind: List\nitems:\n  - " + body(indent: "    "), 4, 5),
        ("a nested mapping", "apiVersion: example.com/v1\nkind: Bundle\nparts:\n  main:\n    " + body(indent: "    "), 5, 5),
    ]

    @Test(arguments: 0..<wrappers.count)
    func aDeploymentWrappedInAnotherDocumentIsAnErrorAtItsPlaceNeverForeignYAML(index: Int) {
        let (what, text, line, column) = Self.wrappers[index]
        let r = load(text, path: "team/wrapped.yaml")
        #expect(r.deployments.isEmpty, "\(what)")
        let error = r.errors.first
        #expect(r.errors.count == 1 && error?.code == "hidden-spec", "\(what): \(r.diagnostics)")
        #expect(error.map { "\($0.line):\($0.column)" } == "\(line):\(column)", "\(what): \(r.diagnostics)")
        #expect(error?.description.hasPrefix("team/wrapped.yaml:\(line):\(column): error: a reclaw deployment 'wrapped' is hidden at ") == true, "\(what)")
        #expect(!r.unmanagedFiles.contains("team/wrapped.yaml"), "\(what): counted as someone else's YAML")
        #expect(r.skipped.isEmpty, "\(what)")
        #expect(r.unreadableFiles["team/wrapped.yaml"] != nil, "\(what): its file does not hold pruning back")
        #expect(r.invalidDeployments["wrapped"] != nil, "\(what): the deployment is not reported as invalid")
    }

    @Test func everyWrappedDeploymentOfAListIsNamedAndOtherYAMLStaysForeign() {
        let two = "- " + Self.body(indent: "  ") + "- " + Self.body("second", indent: "  ")
        #expect(load(two).errors.map(\.line) == [1, 5])
        let pod = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: nginx}]}
        """
        let r = load(pod)
        #expect(r.errors.isEmpty && r.unmanagedFiles == ["spec.yaml"], "\(r.diagnostics)")
        #expect(load("- a\n- b: {c: d}\n").errors.isEmpty)
    }

    @Test func theSpecTagLimitLeavesRoomForEveryTagReclawAddsToTheInstance() {
        #expect(ReclawTags.mostOnOneResource == 5)
        #expect(ReclawTags.maxSpecTags == 45)
        let tags = { (n: Int) in "  tags:\n" + (1...n).map { "    k\($0): v" }.joined(separator: "\n") }
        #expect(load(document(tags(45))).errors.isEmpty)
        let over = load(document(tags(46))).errors
        #expect(over.map(\.code) == ["too-many"])
        #expect(over.first?.description.hasPrefix("spec.yaml:10:5: error: spec.tags has 46 entries; at most 45 are allowed") == true, "\(over)")
    }

    @Test(arguments: [" reclaw:x", "reclaw:x ", "\u{00A0}Reclaw:deployment", " aws:owner", "  AWS:x", " Name", "Name "])
    func reservedTagPrefixesAndKeysAreCheckedOnTheTrimmedKey(key: String) {
        let errors = load(document("  tags: {'\(key)': v}")).errors
        #expect(errors.map(\.code) == ["reserved-tag"], "\(key.debugDescription): \(errors)")
        #expect(errors.first?.description.hasPrefix("spec.yaml:9:") == true, "\(errors)")
    }
}
