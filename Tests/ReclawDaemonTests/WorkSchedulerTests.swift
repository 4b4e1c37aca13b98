import Foundation
import ReclawController
import ReclawDaemon
import Testing

/// The daemon's scheduling as a pure value, driven by hand: no emulator, no clock, no threads.
@Suite struct WorkSchedulerTests {
    static let settings = WorkScheduler.Settings(interval: .seconds(60), driftInterval: .seconds(30), workers: 2,
                                                 backoffMin: .seconds(10), backoffMax: .seconds(160), driftCoalesce: .seconds(1))

    /// A scheduler that has fetched once and tracks `names`.
    func started(_ names: [String], settings: WorkScheduler.Settings = settings) -> WorkScheduler {
        var s = WorkScheduler(settings: settings)
        #expect(s.next(now: .zero) == [.fetch])
        s.track(Set(names), now: .zero)
        s.fetched(succeeded: true, now: .zero)
        return s
    }

    func names(_ jobs: [Job]) -> [String] {
        jobs.flatMap { job -> [String] in
            switch job {
            case .reconcile(let items): return items.map(\.name)
            case .driftCheck(let names), .attribute(let names): return names
            case .fetch: return []
            }
        }
    }

    @Test func aSlowApplyOnOneDeploymentDelaysNeitherAnothersDriftCheckNorItsNewRevision() {
        var s = started(["a", "b"])
        s.enqueue("a", .newRevision, now: .zero)
        #expect(s.next(now: .zero) == [.reconcile([ReconcileItem(name: "a", reasons: [.newRevision])])])
        // A's apply runs for minutes; B's drift timer comes due after 30 s.
        let drift = s.next(now: .seconds(30))
        #expect(drift == [.driftCheck(["b"])], "b's drift check waited for a's apply")
        s.driftChecked(["b"], ["b": .drifted(correct: true)], now: .seconds(31))
        #expect(s.next(now: .seconds(31)) == [.reconcile([ReconcileItem(name: "b", reasons: [.driftCorrection])])])
        s.reconciled("b", .converged, now: .seconds(40))
        // A new revision of B while A still applies: B goes at once.
        s.enqueue("b", .newRevision, now: .seconds(50))
        #expect(s.next(now: .seconds(50)) == [.reconcile([ReconcileItem(name: "b", reasons: [.newRevision])])])
        #expect(s.isBusy("a"))
    }

    @Test func aDeploymentIsNeverHandledTwiceAtOnceAndQueuedOnlyOnce() {
        var s = started(["a"])
        s.enqueue("a", .newRevision, now: .zero)
        #expect(names(s.next(now: .zero)) == ["a"])
        // Queued again while it runs: it waits, once, whatever the number of reasons.
        s.enqueue("a", .newRevision, now: .seconds(1))
        s.enqueue("a", .driftCorrection, now: .seconds(2))
        // As in client-go, an item queued while it is processed waits aside, not in the queue.
        #expect(s.isQueued("a") && s.depth == 0)
        #expect(s.next(now: .seconds(40)).isEmpty, "a ran twice at once, or its drift check ran during its apply")
        s.reconciled("a", .converged, now: .seconds(41))
        #expect(s.next(now: .seconds(41)) == [.reconcile([ReconcileItem(name: "a", reasons: [.newRevision, .driftCorrection])])])
        #expect(s.depth == 0)
    }

    @Test func aDriftCheckOfADeploymentBeingAppliedIsSkippedNotWaitedFor() {
        var s = started(["a", "b"])
        s.enqueue("a", .newRevision, now: .seconds(29))
        _ = s.next(now: .seconds(29))
        #expect(s.next(now: .seconds(30)) == [.driftCheck(["b"])])
        s.driftChecked(["b"], ["b": .clean], now: .seconds(30))
        s.reconciled("a", .converged, now: .seconds(45))
        // After its apply, a's next drift check is a whole interval later.
        #expect(s.nextDrift("a") == .seconds(75))
    }

    @Test func driftChecksDueTogetherShareOneJobSoOneObservationCoversThem() {
        var s = started(["a", "b", "c"])
        #expect(s.next(now: .seconds(30)) == [.driftCheck(["a", "b", "c"])])
    }

    @Test func failuresBackOffExponentiallyWithJitterBetweenTheMinimumAndTheMaximum() {
        var s = started(["a"])
        s.enqueue("a", .newRevision, now: .zero)
        var now = Duration.zero
        var waits: [Double] = []
        for _ in 0..<7 {
            _ = s.next(now: now)
            s.reconciled("a", .failed, now: now)
            var wait = Duration.zero
            while !names(s.next(now: now + wait)).contains("a") { wait += .milliseconds(500) }
            waits.append(wait.inSecondsForTest)
            now += wait
        }
        // 10, 20, 40, 80, then the 160 s cap, each within ±20% (and the granularity of the probe).
        for (i, expected) in [10.0, 20, 40, 80, 160, 160, 160].enumerated() {
            #expect(waits[i] >= expected * 0.8 - 0.5 && waits[i] <= expected * 1.2 + 0.5, "retry \(i + 1) after \(waits[i])s")
        }
        #expect(s.retries == 7)
    }

    @Test func aNewRevisionSkipsTheBackoffOfAFailingDeployment() {
        var s = started(["a"])
        s.enqueue("a", .newRevision, now: .zero)
        _ = s.next(now: .zero)
        s.reconciled("a", .failed, now: .seconds(1))
        #expect(s.next(now: .seconds(2)).isEmpty)
        s.enqueue("a", .newRevision, now: .seconds(2))
        #expect(names(s.next(now: .seconds(2))) == ["a"])
    }

    @Test func aStalledDeploymentIsNotRetriedUntilSomethingChanges() {
        var s = started(["a"])
        s.enqueue("a", .newRevision, now: .zero)
        _ = s.next(now: .zero)
        s.reconciled("a", .stalled, now: .seconds(1))
        #expect(!s.isQueued("a"))
        #expect(s.next(now: .seconds(20)).isEmpty)
    }

    @Test func aHungFetchDoesNotStopDriftChecks() {
        var s = started(["a"])
        s.requestFetch(now: .seconds(1))
        #expect(s.next(now: .seconds(1)) == [.fetch])
        // The fetch never returns; drift checks go on at their own pace.
        #expect(s.next(now: .seconds(30)) == [.driftCheck(["a"])])
        s.driftChecked(["a"], ["a": .clean], now: .seconds(31))
        #expect(s.next(now: .seconds(61)) == [.driftCheck(["a"])])
        #expect(!s.next(now: .seconds(200)).contains(.fetch), "a second fetch started beside the hung one")
    }

    @Test func aPushDuringAFetchFetchesAgainRightAfterIt() {
        var s = started(["a"])
        s.requestFetch(now: .seconds(5))
        #expect(s.next(now: .seconds(5)) == [.fetch])
        s.requestFetch(now: .seconds(6))
        #expect(s.next(now: .seconds(6)).isEmpty)
        s.fetched(succeeded: true, now: .seconds(7))
        #expect(s.next(now: .seconds(7)) == [.fetch])
    }

    @Test func aFailingSourceIsFetchedLessOftenUntilItWorksAgain() {
        var s = started([])
        var now = Duration.zero
        var gaps: [Duration] = []
        for _ in 0..<3 {
            now += .seconds(3600)
            #expect(s.next(now: now) == [.fetch])
            s.fetched(succeeded: false, now: now)
            gaps.append(s.nextWakeup()! - now)
        }
        #expect(gaps == [.seconds(120), .seconds(240), .seconds(480)])
    }

    @Test func noMoreThanTheWorkersReconcileAtOnce() {
        var s = started(["a", "b", "c"])
        for n in ["a", "b", "c"] { s.enqueue(n, .newRevision, now: .zero) }
        #expect(names(s.next(now: .zero)) == ["a", "b"])
        #expect(s.next(now: .seconds(1)).isEmpty)
        s.reconciled("a", .converged, now: .seconds(2))
        #expect(names(s.next(now: .seconds(2))) == ["c"])
    }

    @Test func workThatCannotStartNeverMakesTheDaemonWakeInALoop() {
        var s = started(["a", "b", "c"], settings: .init(interval: .seconds(60), driftInterval: .seconds(30), workers: 1))
        s.enqueue("a", .newRevision, now: .zero)
        s.enqueue("b", .newRevision, now: .zero)
        #expect(names(s.next(now: .zero)) == ["a"])
        // b waits for a free worker: not a reason to wake before something else is due.
        #expect(s.nextWakeup().map { $0 > .zero } == true)
        #expect(s.next(now: .seconds(30)) == [.driftCheck(["c"])])
        // c's drift check runs; nothing else can start until it or a's apply ends.
        #expect(s.nextWakeup().map { $0 > .seconds(30) } ?? true)
    }

    @Test func anAttributionDueForABusyOrQueuedDeploymentWakesTheDaemonOnlyOnceItCanStart() {
        var s = started(["a"])
        s.attribution("a", dueAt: .seconds(10))
        s.enqueue("a", .newRevision, now: .seconds(5))
        #expect(names(s.next(now: .seconds(5))) == ["a"])
        // a is applied past its attribution's time: that is no reason to wake while it runs.
        #expect(s.nextWakeup().map { $0 > .seconds(20) } ?? true)
        s.reconciled("a", .failed, now: .seconds(20))
        // It now waits for its retry; the attribution still waits for a to be idle.
        let retry = try? #require(s.nextWakeup())
        #expect(s.next(now: .seconds(20)).isEmpty)
        #expect(retry.map { $0 > .seconds(20) } == true, "the daemon would wake at once, again and again, for work it cannot start")
    }

    @Test func aShutdownTakesNoNewWork() {
        var s = started(["a"])
        s.enqueue("a", .newRevision, now: .zero)
        s.shutDown()
        #expect(s.next(now: .seconds(100)).isEmpty)
        #expect(s.nextWakeup() == nil)
    }

    @Test func aDeploymentThatLeftIsForgottenOnceItsWorkEnds() {
        var s = started(["a", "b"])
        s.enqueue("a", .newRevision, now: .zero)
        _ = s.next(now: .zero)
        s.track(["b"], now: .seconds(1))
        #expect(s.tracked == ["a", "b"], "a was dropped while it ran")
        s.reconciled("a", .converged, now: .seconds(2))
        #expect(s.tracked == ["b"])
    }

    @Test func attributionRunsWhenDueAndOnlyForFreeDeployments() {
        var s = started(["a", "b"])
        s.attribution("a", dueAt: .seconds(10))
        s.attribution("b", dueAt: .seconds(10))
        s.enqueue("b", .newRevision, now: .seconds(9))
        #expect(names(s.next(now: .seconds(9))) == ["b"])
        #expect(s.next(now: .seconds(10)) == [.attribute(["a"])])
        s.attributed(["a"], next: ["a": .seconds(70)], now: .seconds(11))
        #expect(s.nextAttribution("a") == .seconds(70))
    }
}

extension Duration {
    var inSecondsForTest: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
