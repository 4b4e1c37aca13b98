import Testing
import ReclawEngine

/// The executor's scheduling as a plain value: steps named by strings, no driver, no clock.
@Suite struct StepScheduleTests {
    /// vpc ← subnet ← table ← instance, vpc ← group ← instance, role ← profile ← instance, and a
    /// parameter nothing depends on.
    let dependencies: [String: [String]] = [
        "subnet": ["vpc"], "group": ["vpc"], "table": ["vpc", "subnet"], "profile": ["role"],
        "instance": ["subnet", "group", "profile", "table"],
    ]
    let steps = ["vpc", "role", "parameter", "subnet", "group", "table", "profile", "instance"]

    /// Runs every step to the end, finishing them in start order; returns the batches handed out.
    static func drain(_ schedule: inout StepSchedule<String>, limit: Int = 8, failing: Set<String> = []) -> [[String]] {
        var batches: [[String]] = []
        var running: [String] = []
        while true {
            let started = schedule.next(limit: limit)
            if !started.isEmpty { batches.append(started) }
            running += started
            guard !running.isEmpty else { return batches }
            let step = running.removeFirst()
            schedule.finish(step, failing.contains(step) ? .failed : .succeeded)
        }
    }

    @Test("steps are ready once their dependencies succeed, the longest chain behind them first")
    func readyOrder() {
        var schedule = StepSchedule(steps, dependencies: dependencies)
        // vpc has three steps behind it (subnet, table, instance), role two, the parameter none.
        #expect(schedule.next(limit: 8) == ["vpc", "role", "parameter"])
        #expect(schedule.next(limit: 8).isEmpty)
        schedule.finish("role", .succeeded)
        #expect(schedule.next(limit: 8) == ["profile"])
        schedule.finish("vpc", .succeeded)
        #expect(schedule.next(limit: 8) == ["subnet", "group"])
        schedule.finish("subnet", .succeeded)
        #expect(schedule.next(limit: 8) == ["table"])
        for step in ["parameter", "group", "profile"] { schedule.finish(step, .succeeded) }
        #expect(schedule.next(limit: 8).isEmpty, "instance waits for the table")
        schedule.finish("table", .succeeded)
        #expect(schedule.next(limit: 8) == ["instance"])
        #expect(!schedule.isFinished)
        schedule.finish("instance", .succeeded)
        #expect(schedule.isFinished)
        #expect(schedule.stalled.isEmpty)
    }

    @Test("a failure skips only what depends on it, at once, naming the step it depends on")
    func failureSkipsDependents() {
        var schedule = StepSchedule(steps, dependencies: dependencies)
        _ = schedule.next(limit: 8)
        let settled = schedule.finish("vpc", .failed)
        #expect(settled.map(\.item) == ["subnet", "group", "table", "instance"])
        #expect(settled.first { $0.item == "subnet" }?.settlement == .skipped(because: "vpc"))
        #expect(settled.first { $0.item == "table" }?.settlement == .skipped(because: "vpc"))
        #expect(settled.first { $0.item == "instance" }?.settlement == .skipped(because: "subnet"))
        // role, the parameter and the profile go on.
        schedule.finish("role", .succeeded)
        #expect(schedule.next(limit: 8) == ["profile"])
        schedule.finish("parameter", .succeeded)
        #expect(schedule.finish("profile", .succeeded).isEmpty)
        #expect(schedule.isFinished)
    }

    @Test("a step that a shutdown held back holds back what depends on it, and nothing else")
    func shutdownHoldsBack() {
        var schedule = StepSchedule(steps, dependencies: dependencies)
        _ = schedule.next(limit: 8)
        let settled = schedule.finish("role", .notStarted)
        #expect(settled.map(\.item) == ["profile", "instance"])
        #expect(settled.allSatisfy { if case .heldBack = $0.settlement { true } else { false } })
        schedule.finish("vpc", .succeeded)
        #expect(schedule.next(limit: 8) == ["subnet", "group"])
    }

    @Test("no more steps run at once than the limit, and a finished step frees its place")
    func concurrencyLimit() {
        let many = (0..<10).map { "p\($0)" }
        var schedule = StepSchedule(many, dependencies: [:])
        #expect(schedule.next(limit: 3) == ["p0", "p1", "p2"])
        #expect(schedule.running == 3)
        #expect(schedule.next(limit: 3).isEmpty)
        schedule.finish("p1", .succeeded)
        #expect(schedule.next(limit: 3) == ["p3"])
        var all = StepSchedule(steps, dependencies: dependencies)
        let batches = Self.drain(&all, limit: 2)
        #expect(batches.allSatisfy { $0.count <= 2 })
        #expect(batches.flatMap { $0 }.sorted() == steps.sorted())
    }

    @Test("steps in a dependency cycle, and those behind them, are reported as stalled")
    func cycleReported() {
        var schedule = StepSchedule(["a", "b", "c", "d"], dependencies: ["a": ["b"], "b": ["a"], "c": ["b"]])
        #expect(schedule.next(limit: 8) == ["d"])
        #expect(schedule.stalled.isEmpty, "d still runs")
        schedule.finish("d", .succeeded)
        #expect(schedule.next(limit: 8).isEmpty)
        #expect(schedule.stalled == ["a", "b", "c"])
        #expect(!schedule.isFinished)
    }

    @Test("dependencies outside the schedule and repeated ones are ignored")
    func foreignDependencies() {
        var schedule = StepSchedule(["a", "b"], dependencies: ["b": ["a", "a", "elsewhere"]])
        #expect(schedule.next(limit: 8) == ["a"])
        schedule.finish("a", .succeeded)
        #expect(schedule.next(limit: 8) == ["b"])
    }

    @Test("the work of a whole run is in proportion to the steps and their dependencies")
    func linearWork() {
        // A chain of 2,000 steps, each also depending on the first: 4,000 edges. A rescan after
        // every step would visit millions.
        let n = 2_000
        let names = (0..<n).map { "s\($0)" }
        var dependencies: [String: [String]] = [:]
        for i in 1..<n { dependencies[names[i]] = [names[i - 1], names[0]] }
        var schedule = StepSchedule(names, dependencies: dependencies)
        let batches = Self.drain(&schedule)
        #expect(batches.count == n)
        #expect(schedule.isFinished)
        let edges = 2 * (n - 1) - 1
        #expect(schedule.work <= 3 * (n + edges))
        var failing = StepSchedule(names, dependencies: dependencies)
        _ = failing.next(limit: 8)
        #expect(failing.finish("s0", .failed).count == n - 1)
        #expect(failing.work <= 3 * (n + edges))
    }
}
