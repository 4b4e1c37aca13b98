import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec
import ReclawState
import ReclawTime

/// What exists before a plan is made: creates interrupted in an earlier run, and recorded resources
/// a listing left out.
extension Reconciler {
    /// A create that was in flight when reclaw stopped may still land: AWS had the request. Looked
    /// for again with every instance profile listed: one made by a create cut short before its role
    /// was added holds no role, and GetAccountAuthorizationDetails' pages leave it out. Until
    /// its resource shows up (or the grace period ends) observe again, so it is adopted rather than
    /// made twice. Journal entries older than the grace period, or whose resource exists, are closed.
    /// A journal that cannot be read fails its deployment alone (in `failures`).
    func settle(_ members: [ReconcileTarget], observed: Observation, client: AWSClient, region: String,
                        planID: String) async throws(AWSError) -> (observation: Observation, failures: [String: StateError], interrupted: [String: Set<ComponentKey>]) {
        var observed = observed
        var failures: [String: StateError] = [:]
        var interrupted: [String: Set<ComponentKey>] = [:]
        let deadline = Clocks.now() + interruptedCreateGrace
        let grace = interruptedCreateGrace.inSeconds
        while true {
            var waiting: [(String, String)] = []
            for target in members where failures[target.spec.name] == nil {
                let name = target.spec.name
                do {
                    for entry in try journal.entries(name) {
                        if observed.deployments[name]?[entry.component] != nil {
                            // What carries the tags now is what the interrupted create made.
                            interrupted[name, default: []].insert(entry.component)
                            try journal.end(deployment: name, component: entry.component)
                        } else if now().timeIntervalSince(entry.startedAt) > grace {
                            try journal.end(deployment: name, component: entry.component)
                        } else {
                            waiting.append((name, entry.component))
                        }
                    }
                } catch {
                    failures[name] = error
                }
            }
            guard !waiting.isEmpty, Clocks.now() < deadline else {
                for (name, component) in waiting {
                    logger.warning("an interrupted create left nothing behind; creating it again", metadata: ["deployment": "\(name)", "component": "\(component)"])
                    do { try journal.end(deployment: name, component: component) } catch { failures[name] = error }
                }
                return (observed, failures, interrupted)
            }
            logger.info("waiting for creates interrupted in an earlier run to land", metadata: ["components": "\(waiting.map { "\($0.0)/\($0.1)" })"])
            do { try await Clocks.sleep(for: .seconds(1)) } catch {
                throw AWSError.cancelled(service: "reclaw", operation: "observe", region: region, waitingFor: "interrupted creates")
            }
            observed = try await AWSObserver(client: client, region: region, context: AWSCallContext(planID: planID), slowAttributes: slowAttributes,
                                             parameterReadings: parameterReadings, readConcurrency: concurrency, logger: logger).observe(everyProfile: true)
        }
    }

    /// The recorded resources a listing did not return, read by their own ids: those that exist.
    func recordedButUnlisted(_ recorded: [String: String], in observed: ObservedDeployment, client: AWSClient, region: String,
                                     context: AWSCallContext) async throws(AWSError) -> [ObservedResource] {
        let unlisted = recorded.compactMap { key, id -> RecordedResource? in
            guard let kind = Components.kind(of: key), kind != .role, !(observed.resources[key] ?? []).contains(where: { $0.id == id }) else { return nil }
            return RecordedResource(key: key, kind: kind, id: id)
        }
        guard !unlisted.isEmpty else { return [] }
        let found = try await AWSObserver(client: client, region: region, context: context, slowAttributes: slowAttributes, readConcurrency: concurrency,
                                          logger: logger).read(unlisted, deployment: observed.deployment)
        for r in found {
            logger.info("a recorded resource the listing did not return exists", metadata: ["deployment": "\(observed.deployment)", "component": "\(r.key)",
                                                                                             "resource": "\(r.id)"])
        }
        return found
    }
}
