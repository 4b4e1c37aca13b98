import ReclawSpec

/// The specs of the revision in force, and what a new revision changes. Only the deployments
/// whose spec changed are reconciled again; an invalid spec is reported when its errors change,
/// not on every fetch.
package struct SourceState: Sendable {
    package var revision: String?
    /// The valid deployments of the revision in force.
    package var specs: [String: LoadedDeployment] = [:]
    /// Invalid deployments, with their errors' text.
    package var invalid: [String: String] = [:]
    /// Every spec file path of the revision, readable or not.
    package var paths: Set<String> = []
    /// Spec files that cannot be read or parsed (they may hold deployments), with why.
    package var unreadable: [String: String] = [:]
    package var loaded = false

    package struct Update: Sendable {
        package var revisionChanged: Bool
        package var first: Bool
        /// Valid deployments whose spec differs from the previous revision's (all of them the first time).
        package var changed: [String] = []
        /// Valid deployments whose spec is the same as before.
        package var unchanged: [String] = []
        /// Invalid deployments whose errors are new or different.
        package var newlyInvalid: [String: String] = [:]
        /// Deployments present before and absent now.
        package var removed: [String] = []
        /// Unreadable spec files that are new or whose reason changed.
        package var newlyUnreadable: [String: String] = [:]
    }

    package mutating func apply(revision: String, load: SpecLoadResult, paths: Set<String>) -> Update {
        var update = Update(revisionChanged: revision != self.revision, first: !loaded)
        let specs = Dictionary(load.deployments.map { ($0.spec.name, $0) }, uniquingKeysWith: { a, _ in a })
        let invalid = load.invalidDeployments.mapValues { $0.map(\.description).joined(separator: "; ") }
        for (name, loaded) in specs.sorted(by: { $0.key < $1.key }) {
            if !self.loaded || self.specs[name]?.spec != loaded.spec { update.changed.append(name) } else { update.unchanged.append(name) }
        }
        for (name, text) in invalid.sorted(by: { $0.key < $1.key }) where self.invalid[name] != text {
            update.newlyInvalid[name] = text
        }
        let before = Set(self.specs.keys).union(self.invalid.keys)
        update.removed = before.subtracting(specs.keys).subtracting(invalid.keys).sorted()
        update.newlyUnreadable = load.unreadableFiles.filter { self.unreadable[$0.key] != $0.value }
        self.revision = revision
        self.specs = specs
        self.invalid = invalid
        self.paths = paths
        self.unreadable = load.unreadableFiles
        self.loaded = true
        return update
    }

    /// Every deployment named by the revision in force, valid or not.
    package var names: Set<String> { Set(specs.keys).union(invalid.keys) }
}

/// What a fetch found, for `sourcePass`'s report.
package struct FetchReport: Sendable {
    package var revision: String?
    package var error: String?
    package var invalid: [String] = []
    /// Spec files that cannot be read (they may hold deployments, which are then left alone).
    package var unreadable: [String] = []
    package var pruneRefused: String?

    package init(revision: String? = nil, error: String? = nil) {
        self.revision = revision
        self.error = error
    }
}
