/// Which steps of an apply may start, as a plain value: built from the steps and what each one
/// depends on, and told how every started step ended, it answers which steps are ready and settles
/// the ones that can no longer run. It does no I/O, holds no closures and never waits, so the
/// executor's loop only drives it and every ordering rule is tested with plain values. Its work is
/// proportional to the steps and their dependencies: a step becomes ready when the count of its
/// unfinished dependencies reaches zero, never by rescanning the others.
public struct StepSchedule<Item: Hashable & Sendable>: Sendable {
    /// How a started step ended, as far as the steps after it care.
    public enum Ending: Sendable, Hashable {
        case succeeded
        /// It failed: what depends on it is skipped.
        case failed
        /// It did not run because reclaw is shutting down: what depends on it is held back too.
        case notStarted
    }

    /// How a step ended without running, and the dependency that decided it.
    public enum Settlement: Sendable, Hashable {
        case skipped(because: Item)
        case heldBack(because: Item)
    }

    private enum State: Sendable { case waiting, ready, running, done }

    /// The steps, each once, in the order given.
    public let items: [Item]
    private let position: [Item: Int]
    /// For each step, the steps that depend on it.
    private let dependents: [[Int]]
    /// Each step's place in the start order: the longest chain of steps behind it first (that chain
    /// bounds how soon the apply can end), then the order given.
    private let rank: [Int]
    private let byRank: [Int]
    /// How many of each step's dependencies have not succeeded yet.
    private var unfinished: [Int]
    private var state: [State]
    private var ready = MinHeap()
    /// Steps started and not yet finished.
    public private(set) var running = 0
    private var done = 0
    /// Dependency edges and steps visited so far, so a test can check the work stays in proportion.
    public private(set) var work = 0

    /// `dependencies` names, for a step, the steps it waits for; steps not in `items` are ignored.
    public init(_ items: [Item], dependencies: [Item: [Item]]) {
        var position: [Item: Int] = [:]
        var unique: [Item] = []
        for item in items where position[item] == nil {
            position[item] = unique.count
            unique.append(item)
        }
        var dependents = Array(repeating: [Int](), count: unique.count)
        var unfinished = Array(repeating: 0, count: unique.count)
        for (i, item) in unique.enumerated() {
            var seen: Set<Int> = []
            for dependency in dependencies[item] ?? [] {
                guard let d = position[dependency], seen.insert(d).inserted else { continue }
                dependents[d].append(i)
                unfinished[i] += 1
            }
        }
        self.items = unique
        self.position = position
        self.dependents = dependents
        self.unfinished = unfinished
        state = Array(repeating: .waiting, count: unique.count)
        let height = Self.heights(dependents: dependents, unfinished: unfinished)
        byRank = unique.indices.sorted { height[$0] != height[$1] ? height[$0] > height[$1] : $0 < $1 }
        var rank = Array(repeating: 0, count: unique.count)
        for (r, i) in byRank.enumerated() { rank[i] = r }
        self.rank = rank
        work = unique.count + dependents.reduce(0) { $0 + $1.count }
        for i in unique.indices where unfinished[i] == 0 { makeReady(i) }
    }

    /// Builds the schedule by asking `dependencies` once per step.
    public init(_ items: [Item], dependencies: (Item) -> [Item]) {
        var map: [Item: [Item]] = [:]
        for item in items where map[item] == nil { map[item] = dependencies(item) }
        self.init(items, dependencies: map)
    }

    /// Starts the ready steps that fit under `limit` steps running at once, first in start order.
    public mutating func next(limit: Int) -> [Item] {
        var started: [Item] = []
        while running < max(1, limit), let r = ready.pop() {
            let i = byRank[r]
            state[i] = .running
            running += 1
            work += 1
            started.append(items[i])
        }
        return started
    }

    /// Records how a started step ended; returns the steps this settles without running (those
    /// behind a failure are skipped, those behind a shutdown held back), each naming the dependency
    /// that decided it. Steps that become ready are handed out by `next(limit:)`.
    @discardableResult
    public mutating func finish(_ item: Item, _ ending: Ending) -> [(item: Item, settlement: Settlement)] {
        guard let i = position[item], state[i] == .running else { return [] }
        state[i] = .done
        running -= 1
        done += 1
        guard ending != .succeeded else {
            for d in dependents[i] {
                work += 1
                unfinished[d] -= 1
                if unfinished[d] == 0, state[d] == .waiting { makeReady(d) }
            }
            return []
        }
        var settled: [(item: Item, settlement: Settlement)] = []
        var queue = [i]
        var head = 0
        while head < queue.count {
            let cause = queue[head]
            head += 1
            for d in dependents[cause] {
                work += 1
                guard state[d] == .waiting else { continue }
                state[d] = .done
                done += 1
                settled.append((items[d], ending == .failed ? .skipped(because: items[cause]) : .heldBack(because: items[cause])))
                queue.append(d)
            }
        }
        return settled
    }

    /// Every step has ended or been settled.
    public var isFinished: Bool { done == items.count }

    /// Steps that can never start: nothing runs and nothing is ready, yet they wait (a dependency
    /// cycle, and the steps behind it). Empty while the apply can still go on.
    public var stalled: [Item] {
        guard running == 0, ready.isEmpty else { return [] }
        return items.indices.filter { state[$0] == .waiting }.map { items[$0] }
    }

    private mutating func makeReady(_ i: Int) {
        state[i] = .ready
        ready.push(rank[i])
    }

    /// The longest chain of dependents behind each step (1 for a step nothing depends on), in one
    /// pass over the steps in dependency order; steps in a cycle never start, and count 0.
    private static func heights(dependents: [[Int]], unfinished: [Int]) -> [Int] {
        var left = unfinished
        var order = left.indices.filter { left[$0] == 0 }
        var head = 0
        while head < order.count {
            for d in dependents[order[head]] {
                left[d] -= 1
                if left[d] == 0 { order.append(d) }
            }
            head += 1
        }
        var height = Array(repeating: 0, count: dependents.count)
        for i in order.reversed() { height[i] = 1 + (dependents[i].map { height[$0] }.max() ?? 0) }
        return height
    }
}

/// A binary min-heap of ranks: the ready steps, the first in start order on top.
private struct MinHeap: Sendable {
    private var values: [Int] = []

    var isEmpty: Bool { values.isEmpty }

    mutating func push(_ value: Int) {
        values.append(value)
        var child = values.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard values[child] < values[parent] else { return }
            values.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = values.first else { return nil }
        let last = values.removeLast()
        guard !values.isEmpty else { return top }
        values[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < values.count, values[left] < values[smallest] { smallest = left }
            if right < values.count, values[right] < values[smallest] { smallest = right }
            guard smallest != parent else { return top }
            values.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
