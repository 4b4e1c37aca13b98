import Foundation
import ReclawAudit
import ReclawController
import ReclawSource
import ReclawState

extension ReconcileDaemon {
    /// Fetches the source, reads its specs, and queues what changed. Never waits for an apply.
    @discardableResult
    func fetchLane() async -> Bool {
        await fetch().error == nil
    }

    func fetch() async -> FetchReport {
        var report = FetchReport()
        let recorded: VerifiedRevision?
        do { recorded = try recordedVerifiedRevision() } catch { return await verifiedRevisionUnreadable(error) }
        core.withLock { $0.verifiedStateError = nil }
        let snapshot: SourceSnapshot
        do {
            snapshot = try await source.snapshot(verifiedSince: self.revision ?? recorded?.revision)
        } catch {
            if let recorded { await restore(recorded) }
            let revision = self.revision
            if let refusal = error.refusal {
                report.error = error.message
                report.revision = revision
                metrics.sourceFetched(succeeded: true, at: clock.date())
                await sourceRejected(refusal)
                return report
            }
            report.error = error.message
            report.revision = revision
            metrics.sourceFetched(succeeded: false, at: clock.date())
            logger.error("the source cannot be read; the last good revision stays in force",
                         metadata: ["revision": "\(revision ?? "none")", "error": "\(error.message)"])
            let code = error.code == .unavailable ? "SourceUnavailable" : "Source" + error.code.rawValue.prefix(1).uppercased() + error.code.rawValue.dropFirst()
            await emit(AuditEvent(type: .sourceFailed, time: clock.date(), revision: revision, errorCode: code, errorMessage: error.message,
                                  message: "the source \(source.location) cannot be read; revision \(revision ?? "none") stays in force"),
                       alertKey: "source/-")
            return report
        }
        metrics.sourceFetched(succeeded: true, at: clock.date())
        if let note = snapshot.verificationNote, self.revision == nil { logger.notice("\(note)") }
        let taken = await take(snapshot)
        await recordVerified(snapshot)
        return taken
    }

    /// Puts a revision in force: reads its specs and queues what changed.
    func take(_ snapshot: SourceSnapshot) async -> FetchReport {
        var report = FetchReport()
        report.revision = snapshot.revision
        let load = source.load(snapshot)
        let now = clock.now()
        let (update, previous, names) = core.withLock { c -> (SourceState.Update, String?, Set<String>) in
            let previous = c.source.revision
            let update = c.source.apply(revision: snapshot.revision, load: load, paths: snapshot.paths.union(load.paths))
            c.prunable.subtract(c.source.names)
            for name in update.removed { c.alerts.forget(deployment: name) }
            return (update, previous, c.source.names)
        }
        if let leases {
            leases.setDeployments(names)
            // Leases held whose state could not be adopted yet (the table did not answer): again.
            let pending = leases.owned.subtracting(core.withLock { $0.owned })
            if !pending.isEmpty { await ownershipChanged(gained: pending, lost: []) }
        }
        let owned = owns(names.union(core.withLock { $0.prunable }))
        core.withLock { $0.scheduler.track(owned, now: now) }
        if update.revisionChanged {
            logger.info("new revision", metadata: ["revision": "\(snapshot.revision)", "previous": "\(previous ?? "none")"])
            let signed = snapshot.signer.map { ", signed by \($0)" } ?? ""
            await emit(AuditEvent(type: .sourceUpdated, time: clock.date(), revision: snapshot.revision,
                                  message: "source \(source.location) at \(snapshot.revision) (was \(previous ?? "none"))\(signed)",
                                  details: snapshot.signer.map(Self.details)), alertKey: nil)
            for d in load.diagnostics where d.severity == .error && load.filesWithErrors.contains(d.file) {
                logger.error("\(d.description)")
            }
        }
        for name in update.removed { forgetConditions(name) }
        for (name, text) in update.newlyInvalid.sorted(by: { $0.key < $1.key }) where owned.contains(name) {
            // One diagnostic per line (those of unreadable files were logged above), then their count;
            // the audit event keeps them all in errorMessage.
            let diagnostics = load.invalidDeployments[name] ?? []
            for d in diagnostics where !(update.revisionChanged && d.severity == .error && load.filesWithErrors.contains(d.file)) {
                logger.error("\(d.description)", metadata: ["deployment": "\(name)"])
            }
            let lines = diagnostics.isEmpty ? [text] : diagnostics.map(\.description)
            let errors = lines.count
            logger.error("invalid spec: the deployment is left exactly as it was", metadata: ["deployment": "\(name)", "errors": "\(errors)"])
            do {
                try reconciler.recorder.invalidSpec(name, revision: snapshot.revision, diagnostics: lines)
            } catch {
                await stall(name, .stateUnavailable, "its state cannot be written: \(error)", revision: snapshot.revision)
            }
            // Every diagnostic, one per line (a diagnostic never holds a line break); the count
            // travels in details.errors, so no reader has to count lines.
            await emit(AuditEvent(type: .reconcileFailed, time: clock.date(), deployment: name, revision: snapshot.revision, errorCode: "InvalidSpec",
                                  errorMessage: lines.joined(separator: "\n"),
                                  message: "\(name): stalled: the spec at \(snapshot.revision) is invalid (\(errors) error\(errors == 1 ? "" : "s"))",
                                  details: ["errors": .int(errors), "stalled": .bool(true)]),
                       alertKey: nil, force: true)
        }
        report.invalid = core.withLock { $0.source.invalid.keys.sorted() }.filter(owned.contains)
        report.unreadable = load.unreadableFiles.keys.sorted()
        for (file, reason) in update.newlyUnreadable.sorted(by: { $0.key < $1.key }) {
            logger.error("a spec file cannot be read; the deployments it may hold are left as they are, and nothing is pruned",
                         metadata: ["file": "\(file)", "error": "\(reason)"])
            await emit(AuditEvent(type: .reconcileFailed, time: clock.date(), revision: snapshot.revision, errorCode: "UnreadableSpecFile",
                                  errorMessage: "\(file): \(reason)", message: "\(file) cannot be read at \(snapshot.revision): \(reason)"),
                       alertKey: nil, force: true)
        }
        if let signer = snapshot.signer { await sourceVerified(signer, revision: snapshot.revision, names: owned, changed: update.revisionChanged) }
        await queueChanged(update, revision: snapshot.revision, owned: owned)
        if update.first { await scheduleAttributions() }
        if options.prune && (update.revisionChanged || update.first || leases != nil) {
            report.pruneRefused = await queuePrunes(revision: snapshot.revision)
        }
        await share(owned.intersection(update.newlyInvalid.keys))
        return report
    }

    /// Queues the deployments whose spec changed or that are not converged; a deployment whose
    /// spec is already applied only gets the new revision recorded as in force.
    private func queueChanged(_ update: SourceState.Update, revision: String, owned: Set<String>) async {
        let specs = core.withLock { $0.source.specs }
        var confirmed: [String] = []
        for name in update.changed + (update.revisionChanged ? update.unchanged : []) where owned.contains(name) {
            guard let loaded = specs[name] else { continue }
            let status: DeploymentStatus?
            do {
                status = try reconciler.state.load(name)
            } catch {
                // Stalled, and queued: its retries (with backoff) find out when the file is fixed.
                await stall(name, .stateUnavailable, "its status cannot be read: \(error)", revision: revision)
                let now = clock.now()
                core.withLock { $0.scheduler.enqueue(name, .newRevision, now: now) }
                continue
            }
            if let status, status.holds(.ready), status.lastAppliedSpec == loaded.spec {
                do {
                    try reconciler.recorder.confirmed(name, revision: revision, location: loaded.location.description)
                    unstall(name)
                    confirmed.append(name)
                } catch {
                    await stall(name, .stateUnavailable, "its state cannot be written: \(error)", revision: revision)
                }
                continue
            }
            // A stalled deployment is retried when its spec changes; otherwise its own backoff decides.
            if update.changed.contains(name) || status == nil || !core.withLock({ $0.scheduler.isBusy(name) || $0.scheduler.isQueued(name) }) {
                let now = clock.now()
                core.withLock { $0.scheduler.enqueue(name, .newRevision, now: now) }
            }
        }
        await share(confirmed)
    }

    /// Queues for destruction the deployments whose spec left the repository: never all of them at
    /// once, never while a spec file cannot be read (it may hold them), never one whose file is
    /// still there in some form, never when a status cannot be read. With several replicas, every
    /// deployment with state in the lease table counts, and each replica prunes those it holds.
    private func queuePrunes(revision: String) async -> String? {
        let scan: StatusScan
        do { scan = try reconciler.state.scan() } catch {
            logger.error("not pruning: the state directory cannot be read", metadata: ["error": "\(error)"])
            return nil
        }
        let (present, paths, unreadable) = core.withLock { ($0.source.names, $0.source.paths, $0.source.unreadable) }
        let known = leases?.withState ?? Set(scan.statuses.filter { $0.lastAppliedSpec != nil || $0.region != nil }.map(\.deployment))
        let removed = known.subtracting(present)
        guard !removed.isEmpty else { return nil }
        guard unreadable.isEmpty else {
            logger.warning("not pruning: some spec files cannot be read, and may hold the deployments that look removed",
                           metadata: ["files": "\(unreadable.keys.sorted())"])
            return nil
        }
        guard scan.unreadable.isEmpty else {
            logger.warning("not pruning: some status files cannot be read", metadata: ["deployments": "\(scan.unreadable.keys.sorted())"])
            return nil
        }
        guard removed.count < known.count else {
            let message = "refusing to prune: it would destroy every deployment (\(removed.sorted().joined(separator: ", "))); is the source or --path right?"
            logger.error("\(message)")
            await emit(AuditEvent(type: .reconcileFailed, time: clock.date(), revision: revision, errorCode: "PruneRefused", errorMessage: message, message: message),
                       alertKey: "prune-refused/-")
            return message
        }
        let now = clock.now()
        for name in removed.sorted() {
            let file = scan[name]?.location.map { String($0.split(separator: ":").first ?? "") }
            if let file, paths.contains(file) {
                logger.warning("not pruning: the deployment's spec file is still in the repository", metadata: ["deployment": "\(name)", "file": "\(file)"])
                continue
            }
            core.withLock { $0.prunable.insert(name) }
            guard owns([name]).contains(name) else { continue }
            core.withLock { c in
                if !c.scheduler.isQueued(name) && !c.scheduler.isBusy(name) { c.scheduler.enqueue(name, .prune, now: now) }
            }
        }
        return nil
    }
}
