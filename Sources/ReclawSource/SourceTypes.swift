import Foundation
import ReclawGit
import ReclawSignatures
import ReclawSpec

/// Where specs come from: a local directory, or a git repository fetched into a bare cache and read
/// at a commit without a working tree.
public enum SourceLocation: Sendable, Equatable, CustomStringConvertible {
    case directory(String)
    case git(url: String)

    /// A URL with a scheme is a git remote; anything else is a local directory.
    public init(_ text: String) {
        if text.contains("://") { self = .git(url: text) } else { self = .directory(text) }
    }

    public var description: String {
        switch self {
        case .directory(let p): return p
        case .git(let url): return GitRepository.redacted(url)
        }
    }
}

/// The spec files of one revision, read under `SpecTree`'s rules: every spec-named path, the
/// readable files, and the unreadable ones with why.
public struct SourceSnapshot: Sendable {
    public var revision: String
    public var tree: SpecTree
    /// Who signed the revision, when signatures are verified.
    public var signer: VerifiedSigner?
    /// What the verification did not cover (with `--verify-history` and no verified revision yet,
    /// only the tip was checked).
    public var verificationNote: String?

    public init(revision: String, tree: SpecTree, signer: VerifiedSigner? = nil, verificationNote: String? = nil) {
        self.revision = revision
        self.tree = tree
        self.signer = signer
        self.verificationNote = verificationNote
    }

    /// The readable spec files.
    public var files: [SpecFile] { tree.files }
    /// Spec-named paths that exist but cannot be read (links, too large, ...), with why.
    public var unreadable: [String: String] { tree.unreadable }
    /// Every spec-named path in the tree, in any form.
    public var paths: Set<String> { tree.paths }
}

/// A failure to read the source as a whole (unreachable or silent remote, unknown ref, missing
/// directory, a tree over the limits). The last good revision stays in force.
public struct SourceError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The remote or directory cannot be read.
        case unavailable
        /// The fetch did not finish by its deadline.
        case timedOut
        /// A fetch into the same cache is still running (stuck past its deadline).
        case busy
        /// The tree is over `SpecTreeLimits`, or its path is missing, a link or not a directory.
        case invalidTree
        /// The revision's signature is refused (`refusal` says why).
        case rejected
    }

    public var code: Code
    public var message: String
    public var refusal: SignatureRefusal?
    public init(_ message: String, code: Code = .unavailable) {
        self.code = code
        self.message = message
    }

    public init(_ refusal: SignatureRefusal) {
        code = .rejected
        message = refusal.description
        self.refusal = refusal
    }
    public var description: String { message }
}
