import Foundation
import ReclawAudit
import ReclawJSON
import ReclawSignatures

extension ReconcileDaemon {
    /// The newest revision was refused for its signature: nothing of it is applied, the revision
    /// in force stays, and the refusal is logged, audited, counted, alerted once and shown in the
    /// status and `/healthz`. The same refused commit fetched again is not reported again.
    func sourceRejected(_ refusal: SignatureRefusal) async {
        let repeated = core.withLock { c -> Bool in
            defer { c.rejected = refusal }
            return c.rejected?.commit == refusal.commit && c.rejected?.tag == refusal.tag
        }
        let inForce = revision
        guard !repeated else {
            logger.debug("the refused revision is still the tip", metadata: ["commit": "\(refusal.commit)"])
            return
        }
        metrics.sourceRejected(reason: refusal.reason.code)
        logger.error("\(refusal.description)", metadata: ["in force": "\(inForce ?? "none")"])
        var details: [String: JSONValue] = ["commit": .string(refusal.commit), "reason": .string(refusal.reason.description)]
        if let signer = refusal.signer { details["signer"] = .string(signer) }
        if let tag = refusal.tag { details["tag"] = .string(tag) }
        await emit(AuditEvent(type: .sourceRejected, time: clock.date(), revision: refusal.commit, errorCode: refusal.reason.code,
                              errorMessage: refusal.description,
                              message: "refused \(refusal.commit): \(refusal.reason); revision \(inForce ?? "none") stays in force",
                              details: .object(details)),
                   alertKey: "source-rejected/-/\(refusal.commit)")
        // Nothing read yet (a first fetch refused): the deployments with a status are told.
        let (loaded, inSource) = core.withLock { ($0.source.loaded, $0.source.names) }
        let names = owns(loaded ? inSource : Set((try? reconciler.state.scan().statuses.map(\.deployment)) ?? []))
        for name in names.sorted() {
            do {
                try reconciler.recorder.sourceVerification(name, verified: false, message: refusal.description, revision: refusal.commit, signer: nil)
            } catch {
                await stall(name, .stateUnavailable, "its state cannot be written: \(error)", revision: inForce)
            }
        }
    }

    /// The tip verified: a refusal in force is over, and the signer is recorded in each status.
    func sourceVerified(_ signer: VerifiedSigner, revision: String, names: Set<String>, changed: Bool) async {
        let wasRejected = core.withLock { c -> Bool in
            defer {
                c.rejected = nil
                c.verified = (signer, revision)
            }
            return c.rejected != nil
        }
        if wasRejected { logger.notice("the source verifies again", metadata: ["revision": "\(revision)", "signer": "\(signer)"]) }
        guard changed || wasRejected else { return }
        for name in names.sorted() {
            do {
                try reconciler.recorder.sourceVerification(name, verified: true, message: "signed by \(signer)", revision: revision,
                                                           signer: signer.description)
            } catch {
                await stall(name, .stateUnavailable, "its state cannot be written: \(error)", revision: revision)
            }
        }
    }

    /// A deployment whose status did not exist when its revision verified (its first apply) gets
    /// the signer and the `SourceVerified` condition once the apply has written its status.
    func signerAfterApply(_ name: String) async {
        guard let verified = core.withLock({ $0.rejected == nil ? $0.verified : nil }) else { return }
        let (signer, revision) = verified
        guard let status = try? reconciler.state.load(name), status.condition(.sourceVerified) == nil else { return }
        do {
            try reconciler.recorder.sourceVerification(name, verified: true, message: "signed by \(signer)", revision: revision,
                                                       signer: signer.description)
        } catch {
            await stall(name, .stateUnavailable, "its state cannot be written: \(error)", revision: revision)
        }
    }

    /// The signer as audit event details.
    static func details(_ signer: VerifiedSigner) -> JSONValue {
        .object(["signer": .string(signer.identity), "signerKey": .string(signer.fingerprint), "signatureType": .string(signer.method.rawValue)])
    }
}
