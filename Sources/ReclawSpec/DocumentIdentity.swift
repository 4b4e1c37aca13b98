import ReclawYAML

/// What a YAML document in a spec file is: reclaw's deployment, clearly someone else's YAML
/// (skipped, so a repository can hold other files), or *almost* reclaw's. A near miss is an
/// error, never skipped: a one-letter typo in `kind` must not turn a deployment into "other YAML"
/// that a prune would then destroy.
enum DocumentIdentity {
    case deployment
    case foreign(String)
    case nearMiss(SourceMark, code: String, message: String)

    static let group = SpecSchema.apiVersion.split(separator: "/")[0].lowercased()

    init(_ root: YAMLNode) {
        guard let pairs = root.mapping else {
            self = .foreign("not a mapping")
            return
        }
        func field(_ name: String) -> (text: String?, node: YAMLNode)? {
            guard let node = pairs.first(where: { $0.key.scalar?.value == name })?.value else { return nil }
            return (node.scalar?.value, node)
        }
        let kindField = field("kind"), versionField = field("apiVersion")
        let kind = kindField?.text, version = versionField?.text
        let kindMark = kindField?.node.mark ?? root.mark, versionMark = versionField?.node.mark ?? root.mark
        let ours = Self.isReclawKind(kind), oursVersion = version == SpecSchema.apiVersion

        if kind == SpecSchema.kind {
            // The kind is reclaw's: any apiVersion but the one this reclaw reads is an error
            // (a missing one is reported by the schema).
            if version == nil || oursVersion {
                self = .deployment
            } else {
                let shown = SafeText.quoted(version ?? "")
                let why = Self.isReclawGroup(version) ? "is not supported by this reclaw" : "is not reclaw's"
                self = .nearMiss(versionMark, code: "unsupported-api-version",
                                 message: "apiVersion \(shown) \(why): kind \(SpecSchema.kind) is read as \(SpecSchema.apiVersion)")
            }
            return
        }
        if ours {
            self = .nearMiss(kindMark, code: "unknown-kind",
                             message: "kind \(SafeText.quoted(kind ?? "")) is not a kind reclaw knows; did you mean '\(SpecSchema.kind)'?")
            return
        }
        if oursVersion || Self.isReclawGroup(version) {
            if kind == nil {
                if oursVersion {
                    self = .deployment  // the schema reports the missing kind
                } else {
                    self = .nearMiss(versionMark, code: "unsupported-api-version",
                                     message: "apiVersion \(SafeText.quoted(version ?? "")) is not supported by this reclaw (it reads \(SpecSchema.apiVersion)), and the document has no kind")
                }
                return
            }
            self = .nearMiss(kindMark, code: "unknown-kind",
                             message: "kind \(SafeText.quoted(kind ?? "")) is not one of reclaw.dev's kinds (\(SpecSchema.kind)), yet apiVersion is \(SafeText.quoted(version ?? ""))")
            return
        }
        if kind == nil && version == nil && field("metadata") != nil && field("spec") != nil {
            self = .nearMiss(root.mark, code: "missing-kind",
                             message: "the document has metadata and spec but neither apiVersion nor kind; a deployment starts with apiVersion: \(SpecSchema.apiVersion) and kind: \(SpecSchema.kind)")
            return
        }
        self = .foreign(kind.map { "kind \(SafeText.escaped($0))" } ?? "no kind")
    }

    /// The kind, or a near miss of it: another case, or up to two edits away.
    static func isReclawKind(_ kind: String?) -> Bool {
        guard let kind else { return false }
        let lower = kind.lowercased(), ours = SpecSchema.kind.lowercased()
        if lower == ours { return true }
        guard abs(lower.count - ours.count) <= 2 else { return false }
        return Suggest.distance(lower, ours) <= 2
    }

    /// An apiVersion in reclaw.dev's group, or two edits away from its group or from the full
    /// version (`reclaw.dev/v1alpha2`, `recalw.dev/v1alpha1`, `reclaw.io/v1`).
    static func isReclawGroup(_ version: String?) -> Bool {
        guard let version else { return false }
        let lower = version.lowercased()
        let versionGroup = lower.split(separator: "/", maxSplits: 1).first.map(String.init) ?? lower
        if versionGroup == group || versionGroup.hasSuffix("." + group) { return true }
        if lower.count <= SpecSchema.apiVersion.count + 2, Suggest.distance(lower, SpecSchema.apiVersion.lowercased()) <= 2 { return true }
        if versionGroup.count <= group.count + 2, Suggest.distance(versionGroup, group) <= 2 { return true }
        // reclaw.io, reclaw.example: the same name in another domain.
        return versionGroup.split(separator: ".").first == "reclaw"
    }
}
