import ReclawProviderAWS
import Synchronization
import Testing

/// Per-resource reads never have more than their limit in flight, and every item is read.
@Suite struct BoundedConcurrencyTests {
    final class Gauge: Sendable {
        private let state = Mutex<(now: Int, most: Int)>((0, 0))
        func enter() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
    }

    @Test func noMoreThanTheLimitAreInFlightAndEveryItemIsDone() async {
        let gauge = Gauge()
        let outputs = await BoundedConcurrency.map(Array(0..<300), limit: 8) { item in
            gauge.enter()
            for _ in 0..<5 { await Task.yield() }
            try? await Task.sleep(for: .milliseconds(1))
            gauge.leave()
            return item * 2
        }
        #expect(outputs.sorted() == Array(0..<300).map { $0 * 2 })
        #expect(gauge.most <= 8)
        #expect(gauge.most > 1)
    }

    @Test func aLimitBelowOneStillDoesTheWorkOneAtATime() async {
        let gauge = Gauge()
        let outputs = await BoundedConcurrency.map(["a", "b", "c"], limit: 0) { item in
            gauge.enter()
            try? await Task.sleep(for: .milliseconds(1))
            gauge.leave()
            return item.uppercased()
        }
        #expect(outputs.sorted() == ["A", "B", "C"])
        #expect(gauge.most == 1)
    }

    @Test func noItemsMeansNoWork() async {
        let outputs = await BoundedConcurrency.map([Int](), limit: 4) { $0 }
        #expect(outputs.isEmpty)
    }
}
