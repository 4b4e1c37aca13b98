import Foundation
import ReclawAudit
import ReclawController
import ReclawSource
import ReclawState

extension ReconcileDaemon {
    /// Whether revisions must verify: signatures are required of a git source.
    var verifiesSignatures: Bool {
        guard source.signatures != nil, case .git = source.location else { return false }
        return true
    }

    /// The last verified revision recorded in the state directory for this source and ref, while
    /// none is in force yet; a record of another source or ref is ignored (and said so). A file
    /// that cannot be read is an error: the caller applies nothing until it can.
    func recordedVerifiedRevision() throws(StateError) -> VerifiedRevision? {
        guard verifiesSignatures, !core.withLock({ $0.source.loaded }) else { return nil }
        guard let record = try reconciler.state.loadVerifiedRevision() else { return nil }
        guard record.belongs(to: source.location.description, ref: source.ref) else {
            logger.notice("the recorded verified revision belongs to another source or ref; ignoring it",
                          metadata: ["recorded": "\(record.source) \(record.ref)", "file": "\(reconciler.state.verifiedRevisionPath)"])
            return nil
        }
        core.withLock { $0.recordedVerified = record }
        return record
    }

    /// The verified-revision file cannot be read: the source is held, nothing is applied, and
    /// the file is named in the log, an alert, the audit log and `/healthz`.
    func verifiedRevisionUnreadable(_ error: StateError) async -> FetchReport {
        let first = core.withLock { c -> Bool in
            defer { c.verifiedStateError = error }
            return c.verifiedStateError?.message != error.message
        }
        metrics.sourceFetched(succeeded: false, at: clock.date())
        if first {
            logger.error("the last verified revision cannot be read; nothing is applied until it can",
                         metadata: ["file": "\(error.path ?? reconciler.state.verifiedRevisionPath)", "error": "\(error.message)"])
            await emit(AuditEvent(type: .sourceFailed, time: clock.date(), errorCode: error.code.rawValue, errorMessage: error.message,
                                  message: "the last verified revision cannot be read (\(error.message)); nothing is applied until it can"),
                       alertKey: "source-state/-")
        }
        return FetchReport(revision: nil, error: error.message)
    }

    /// Puts the recorded verified revision in force, read from the git cache at that commit, when
    /// the tip cannot be (refused, or the remote unreachable) and nothing is in force yet.
    func restore(_ record: VerifiedRevision) async {
        guard !core.withLock({ $0.source.loaded }) else { return }
        let snapshot: SourceSnapshot
        do {
            snapshot = try source.verifiedSnapshot(at: record.revision)
        } catch {
            logger.error("the last verified revision cannot be read from the git cache, or no longer verifies; nothing is in force",
                         metadata: ["revision": "\(record.revision)", "error": "\(error.message)"])
            return
        }
        logger.notice("the last verified revision is in force, as recorded in the state directory",
                      metadata: ["revision": "\(record.revision)", "signer": "\(record.signerIdentity) (\(record.signatureType) \(record.signerKey))"])
        _ = await take(snapshot)
    }

    /// Records the revision just verified and in force, so a restart keeps it; written once per
    /// revision.
    func recordVerified(_ snapshot: SourceSnapshot) async {
        guard verifiesSignatures, let signer = snapshot.signer else { return }
        let record = VerifiedRevision(source: source.location.description, ref: source.ref, revision: snapshot.revision,
                                      signerIdentity: signer.identity, signerKey: signer.fingerprint,
                                      signatureType: signer.method.rawValue, verifiedAt: clock.date())
        let previous = core.withLock { c -> VerifiedRevision? in
            defer { c.recordedVerified = record }
            return c.recordedVerified
        }
        guard previous?.revision != record.revision else { return }
        do {
            try reconciler.state.saveVerifiedRevision(record)
        } catch {
            // Said once per revision; the next verified revision is written again. An older record
            // is still a verified revision, and `--verify-history` checks every commit since it.
            logger.error("the verified revision cannot be recorded; after a restart an earlier one would be in force",
                         metadata: ["revision": "\(record.revision)", "error": "\(error.message)"])
            await emit(AuditEvent(type: .sourceFailed, time: clock.date(), revision: record.revision, errorCode: error.code.rawValue,
                                  errorMessage: error.message, message: "the verified revision \(record.revision) cannot be recorded: \(error.message)"),
                       alertKey: "source-state/-")
        }
    }
}
