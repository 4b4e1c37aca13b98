import Foundation

extension StatusRecorder {
    /// Records the `SourceVerified` condition of a deployment that already has a status: True with
    /// the signer of the revision in force, or False with why the newest revision was refused.
    /// Returns nil, and writes nothing, for a deployment without a status yet.
    @discardableResult
    public func sourceVerification(_ deployment: String, verified: Bool, message: String, revision: String?,
                                   signer: String?) throws(StateError) -> DeploymentStatus? {
        guard try store.load(deployment) != nil else { return nil }
        let now = now()
        return try write(deployment) { s in
            s.set(.sourceVerified, ConditionStatus(verified), verified ? .signatureVerified : .signatureRefused, message, revision: revision, now: now)
            if verified, let signer { s.verifiedSigner = signer }
        }
    }
}
