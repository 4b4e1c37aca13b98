import Foundation
import ReclawEngine
import ReclawJSON
import ReclawProviderAWS
import Testing

/// The slow-read cache's schedule: what one observation reads, and what keeps serving until its turn.
@Suite struct SlowReadScheduleTests {
    let value: [String: JSONValue] = ["enableDnsSupport": true]

    func cache(budget: Int?, _ clock: ManualClock) -> SlowAttributeCache {
        SlowAttributeCache(maxAge: .seconds(900), readsPerObservation: budget, now: clock.now)
    }

    @Test("young entries serve, and a resource never read is read whatever the budget")
    func youngServeAndUnknownAreRead() async {
        let clock = ManualClock()
        let c = cache(budget: 1, clock)
        await c.store(["vpc-a": value])
        let (known, read) = await c.schedule(["vpc-a", "vpc-b", "vpc-c"])
        #expect(Set(known.keys) == ["vpc-a"])
        #expect(read == ["vpc-b", "vpc-c"])
    }

    @Test("past the interval, an observation reads its budget of entries, those read longest ago first, and serves the rest")
    func dueEntriesAreReadStalestFirstWithinTheBudget() async {
        let clock = ManualClock()
        let c = cache(budget: 2, clock)
        await c.store(["vpc-c": value])
        clock.advance(10)
        await c.store(["vpc-a": value])
        clock.advance(10)
        await c.store(["vpc-b": value])
        clock.advance(1000)
        let (known, read) = await c.schedule(["vpc-a", "vpc-b", "vpc-c"])
        #expect(read == ["vpc-c", "vpc-a"])
        #expect(Set(known.keys) == ["vpc-b"])
        await c.store(["vpc-c": value, "vpc-a": value])
        let next = await c.schedule(["vpc-a", "vpc-b", "vpc-c"])
        #expect(next.read == ["vpc-b"] && next.known.count == 2)
    }

    @Test("resources read for the first time use up the budget before due ones get a turn")
    func firstReadsComeBeforeDueOnes() async {
        let clock = ManualClock()
        let c = cache(budget: 2, clock)
        await c.store(["vpc-a": value, "vpc-b": value])
        clock.advance(1000)
        let (known, read) = await c.schedule(["vpc-a", "vpc-b", "vpc-new1", "vpc-new2", "vpc-new3"])
        #expect(read == ["vpc-new1", "vpc-new2", "vpc-new3"])
        #expect(Set(known.keys) == ["vpc-a", "vpc-b"])
    }

    @Test("an invalidated entry, or one older than the retention, is read at once")
    func invalidatedAndExpiredAreReadAtOnce() async {
        let clock = ManualClock()
        let c = cache(budget: 1, clock)
        await c.store(["vpc-a": value, "vpc-b": value, "vpc-c": value])
        await c.invalidate(resourceIDs: ["vpc-b"])
        clock.advance(1000)
        #expect(await c.schedule(["vpc-a", "vpc-b", "vpc-c"]).read == ["vpc-b"])
        clock.advance(SlowAttributeCache.retention.inSeconds)
        #expect(await c.schedule(["vpc-a", "vpc-b", "vpc-c"]).read == ["vpc-a", "vpc-b", "vpc-c"])
    }

    @Test("without a budget (one-shot commands) every due entry is read")
    func withoutABudgetEveryDueEntryIsRead() async {
        let clock = ManualClock()
        let c = cache(budget: nil, clock)
        await c.store(["vpc-a": value, "vpc-b": value])
        clock.advance(1000)
        let (known, read) = await c.schedule(["vpc-a", "vpc-b"])
        #expect(known.isEmpty && read == ["vpc-a", "vpc-b"])
    }
}
