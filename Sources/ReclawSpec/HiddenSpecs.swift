import ReclawYAML

/// reclaw's documents found *inside* another document: an item of a top-level list
/// (`- apiVersion: reclaw.dev/v1alpha1`), an entry of a `kind: List`'s `items`, any nested mapping
/// that says it is reclaw's. reclaw reads a deployment only as a top-level document; one hidden
/// like this must never pass as someone else's YAML (it would stop being enforced), so each is an
/// error at its own line and column.
struct HiddenSpec {
    /// The mapping that claims to be reclaw's.
    var node: YAMLNode
    /// Where it sits in its document: `[0]`, `items[2]`, `spec.template`.
    var path: String

    /// Every reclaw mapping below the root of a document that is not itself reclaw's, in document
    /// order; nothing below a found one is searched again. The tree is bounded by the parser's
    /// node limit, and the walk keeps its own stack.
    static func find(in root: YAMLNode) -> [HiddenSpec] {
        var found: [HiddenSpec] = []
        var pending: [(node: YAMLNode, path: String)] = children(of: root, path: "").reversed()
        while let (node, path) = pending.popLast() {
            if node.mapping != nil, claimsToBeReclaws(node) {
                found.append(HiddenSpec(node: node, path: path))
                continue
            }
            pending += children(of: node, path: path).reversed()
        }
        return found
    }

    /// A mapping with reclaw's apiVersion or kind (or a near miss of either). A mapping with only
    /// `metadata` and `spec` is not enough: Kubernetes pod templates look like that.
    static func claimsToBeReclaws(_ node: YAMLNode) -> Bool {
        switch DocumentIdentity(node) {
        case .deployment: return true
        case .nearMiss(_, let code, _): return code != "missing-kind"
        case .foreign: return false
        }
    }

    private static func children(of node: YAMLNode, path: String) -> [(node: YAMLNode, path: String)] {
        switch node.content {
        case .scalar:
            return []
        case .sequence(let items):
            return items.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
        case .mapping(let pairs):
            return pairs.flatMap { pair -> [(node: YAMLNode, path: String)] in
                let name = pair.key.scalar.map { SafeText.escaped($0.value) } ?? "?"
                let child = path.isEmpty ? name : "\(path).\(name)"
                return pair.key.scalar == nil ? [(pair.key, child), (pair.value, child)] : [(pair.value, child)]
            }
        }
    }

    /// The deployment name it carries, if any (`metadata.name`).
    var name: String? {
        node.mapping?.first { $0.key.scalar?.value == "metadata" }?.value.mapping?
            .first { $0.key.scalar?.value == "name" }?.value.scalar?.value
    }

    var message: String {
        let shown = name.map { " \(SafeText.quoted($0))" } ?? ""
        return "a reclaw deployment\(shown) is hidden at \(path) of a document that is not reclaw's; reclaw reads a deployment only "
            + "as a top-level YAML document, never inside a list or another document: make it a document of its own (separate documents with ---)"
    }
}
