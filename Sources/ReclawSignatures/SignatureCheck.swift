import Foundation
import ReclawGit

extension SignaturePolicy {
    /// The most commits `--verify-history` verifies in one fetch.
    static let historyLimit = 10_000

    /// Verifies the tip of `ref` (its signed tag, else its commit) and, with `verifyHistory`, every
    /// commit since `since`. Throws the first `SignatureRefusal` (oldest commit first), or a
    /// `GitError` when the repository cannot be read; returns the tip's signer and a note when
    /// the history was not checked.
    package func check(_ repository: GitRepository, ref: String, tip commit: String, since: String?) throws -> (VerifiedSigner, String?) {
        let tip = try repository.signedTip(ref)
        var note: String?
        if verifyHistory {
            if let since, since != commit {
                let commits = try repository.commits(from: since, to: commit, limit: Self.historyLimit)
                for id in commits.reversed() where !(id == commit && tip.kind == .commit) {
                    if case .failure(let refusal) = verify(try repository.signedCommit(id)) { throw refusal }
                }
            } else if since == nil {
                note = "no verified revision yet: only the tip \(commit) was verified, not the history before it"
            }
        }
        switch verify(tip) {
        case .success(let signer): return (signer, note)
        case .failure(let refusal): throw refusal
        }
    }
}
