import Foundation

/// The executor's loop: it drives a `StepSchedule` (which decides what may start and what can no
/// longer run) and does the I/O: it starts each step the schedule hands out the moment it is ready,
/// records it, and tells the schedule how it ended.
extension Executor {
    /// Runs steps as their dependencies finish, at most `concurrency` at once.
    func run(_ steps: [Step], dependencies: (Step) -> [Step], plan: Plan, ids: IDTable, records: RecordFailure,
             body: @escaping @Sendable (Step, StepContext) async throws -> String?) async -> [StepOutcome] {
        var schedule = StepSchedule(steps, dependencies: dependencies)
        var outcomes: [Step: StepOutcome] = [:]
        await withTaskGroup(of: StepOutcome.self) { group in
            /// Records how a step ended, and what that settles without running.
            func settle(_ outcome: StepOutcome) {
                outcomes[outcome.step] = outcome
                for (step, settlement) in schedule.finish(outcome.step, StepSchedule.Ending(outcome.status)) {
                    outcomes[step] = StepOutcome(step: step, status: settlement.status, resourceID: step.resourceID)
                }
            }
            /// Starts every step the schedule has ready, within the bound; a step that may not start
            /// (a shutdown, or a record that failed) ends at once, which may free others in turn.
            func launchReady() async {
                while true {
                    let starting = schedule.next(limit: concurrency)
                    if starting.isEmpty { return }
                    for step in starting {
                        if shouldStop() || records.first != nil {
                            settle(StepOutcome(step: step, status: .notStarted, resourceID: step.resourceID))
                            continue
                        }
                        let context = StepContext(deployment: plan.deployment, region: plan.region, planID: plan.id, revision: plan.revision,
                                                  key: step.key, ids: await ids.all)
                        group.addTask { [observer] in
                            await Self.perform(step, context: context, observer: observer, records: records, body: body)
                        }
                    }
                }
            }
            await launchReady()
            while let outcome = await group.next() {
                settle(outcome)
                await launchReady()
            }
        }
        // Anything left never became ready (a dependency cycle would be a bug; report it).
        for step in steps where outcomes[step] == nil {
            outcomes[step] = StepOutcome(step: step, status: .skipped("its dependencies never completed"), resourceID: step.resourceID)
        }
        return steps.compactMap { outcomes[$0] }
    }

    /// One step: its start recorded, its body run, its end recorded.
    private static func perform(_ step: Step, context: StepContext, observer: (any ExecutionObserver)?, records: RecordFailure,
                                body: @Sendable (Step, StepContext) async throws -> String?) async -> StepOutcome {
        do {
            try await observer?.stepStarted(step, context: context)
        } catch {
            records.note("\(error)")
            return StepOutcome(step: step, status: .failed(message: "not started: its record cannot be written (\(error))",
                                                          code: "AuditUnavailable", requestID: nil), resourceID: step.resourceID)
        }
        let outcome: StepOutcome
        do {
            let id = try await body(step, context)
            outcome = StepOutcome(step: step, status: .succeeded, resourceID: id ?? step.resourceID)
        } catch where Task.isCancelled {
            // Cut short by a shutdown past its grace period (a wait for AWS, usually): not a
            // failure; what it created is tagged and journaled, so the next start resumes.
            outcome = StepOutcome(step: step, status: .notStarted, resourceID: step.resourceID)
        } catch {
            let reportable = error as? ReportableError
            outcome = StepOutcome(step: step, status: .failed(message: "\(error)", code: reportable?.errorCode, requestID: reportable?.errorRequestID),
                                  resourceID: step.resourceID)
        }
        do {
            try await observer?.stepFinished(outcome, context: context)
        } catch {
            records.note("\(error)")
        }
        return outcome
    }
}

extension StepSchedule.Ending {
    /// What a step's outcome means for the steps after it.
    init(_ status: StepOutcome.Status) {
        switch status {
        case .succeeded: self = .succeeded
        case .notStarted: self = .notStarted
        case .failed, .skipped, .blocked: self = .failed
        }
    }
}

extension StepSchedule.Settlement where Item == Step {
    /// The outcome of a step settled without running.
    var status: StepOutcome.Status {
        switch self {
        case .skipped(let cause): .skipped("\(cause.key) did not complete")
        case .heldBack: .notStarted
        }
    }
}
