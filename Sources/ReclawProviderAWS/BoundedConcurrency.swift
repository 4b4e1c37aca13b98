/// Reads made one call per resource fan out over every deployment of a region at once; AWS
/// throttles such a burst (EC2's request token buckets, IAM's per-account rate) and each call in
/// flight holds a connection and its buffers. This keeps at most `limit` of them in flight.
public enum BoundedConcurrency {
    /// `body` applied to every item, at most `limit` at a time; the results in the order they end.
    public static func map<Item: Sendable, Output: Sendable>(_ items: [Item], limit: Int,
                                                             _ body: @escaping @Sendable (Item) async -> Output) async -> [Output] {
        await withTaskGroup(of: Output.self) { group in
            var pending = items.makeIterator()
            var outputs: [Output] = []
            outputs.reserveCapacity(items.count)
            for _ in 0..<max(1, limit) {
                guard let item = pending.next() else { break }
                group.addTask { await body(item) }
            }
            while let output = await group.next() {
                outputs.append(output)
                if let item = pending.next() { group.addTask { await body(item) } }
            }
            return outputs
        }
    }
}
