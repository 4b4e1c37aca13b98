import ReclawGit
import ReclawSpec

/// A git commit's tree as `SpecTree.walk` reads it: entries from the tree objects (links and
/// submodules reported as such, never followed), sizes from object headers, and only spec-named
/// blobs under the size limit ever read.
struct GitSpecTree: SpecTreeBrowser {
    let repository: GitRepository
    /// Largest tree object read (a tree of 100,000 entries is a few MiB).
    let maxTreeBytes: Int

    /// The spec tree of `commit` under `path`: an error when `path` is missing, a link, or not a
    /// directory (a mistyped `--path` must not read as "no specs").
    static func read(_ repository: GitRepository, commit: String, path: String, limits: SpecTreeLimits) throws(SpecTreeError) -> SpecTree {
        let clean = path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
        let shown = clean.isEmpty ? "." : clean
        let root: GitTreeEntryInfo?
        do { root = try repository.entry(at: commit, path: clean) } catch {
            throw SpecTreeError(.unreadable, path: shown, "cannot be read at \(commit): \(error)")
        }
        guard let root else { throw SpecTreeError(.notFound, path: shown, "no such directory at commit \(commit)") }
        switch root.kind {
        case .tree: break
        case .link: throw SpecTreeError(.symbolicLink, path: shown, "is a symbolic link in the repository; reclaw does not follow links")
        default: throw SpecTreeError(.notADirectory, path: shown, "is not a directory at commit \(commit)")
        }
        let browser = GitSpecTree(repository: repository, maxTreeBytes: max(16 << 20, limits.maxEntries * 300))
        return try SpecTree.walk(browser, root: root.id, prefix: clean.isEmpty ? "" : clean + "/", limits: limits)
    }

    func entries(of directory: GitObjectID, path: String) throws(SpecTreeError) -> [SpecTreeEntry<GitObjectID>] {
        let listing: [GitTreeEntryInfo]
        do { listing = try repository.entries(ofTree: directory, maxObjectBytes: maxTreeBytes) } catch {
            throw SpecTreeError(.unreadable, path: path.isEmpty ? "." : String(path.dropLast()), "the tree cannot be read: \(error.message)")
        }
        var out: [SpecTreeEntry<GitObjectID>] = []
        out.reserveCapacity(listing.count)
        for entry in listing {
            let kind: SpecTreeEntryKind
            switch entry.kind {
            case .tree: kind = .directory
            case .link: kind = .symbolicLink
            case .submodule: kind = .other("a submodule")
            case .other: kind = .other("an entry of unknown type")
            case .blob:
                // Only a spec file's size is worth a header read; other blobs are never touched.
                guard SpecLoader.isSpecPath(entry.name), !entry.name.hasPrefix(".") else {
                    kind = .file(size: 0)
                    break
                }
                do { kind = .file(size: try repository.objectSize(entry.id)) } catch {
                    kind = .other("a blob whose header cannot be read (\(error.message))")
                }
            }
            out.append(SpecTreeEntry(name: entry.name, kind: kind, handle: entry.id))
        }
        return out
    }

    func contents(of file: GitObjectID, path: String, size: Int, limit: Int) throws(SpecFileReadError) -> [UInt8] {
        do { return try repository.blob(file, maxBytes: limit) } catch { throw SpecFileReadError(error.message) }
    }
}
