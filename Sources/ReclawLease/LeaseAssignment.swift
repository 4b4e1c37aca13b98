/// How deployments are spread over the live replicas: the same answer on every replica.
extension LeaseCoordinator {
    /// An even, stable assignment every replica computes alike from the same view: deployments
    /// in a fixed order, each to the highest-scoring replica (rendezvous hashing) that still has
    /// room, so every replica gets ⌊deployments / replicas⌋ or one more.
    public static func assignment(deployments: [String], replicas: [String]) -> [String: String] {
        let live = Array(Set(replicas)).sorted()
        guard !live.isEmpty else { return [:] }
        let base = deployments.count / live.count
        let remainder = deployments.count % live.count
        var load: [String: Int] = [:]
        var fuller = 0  // replicas given base + 1
        var out: [String: String] = [:]
        for d in deployments.sorted(by: { (fnv1a($0), $0) < (fnv1a($1), $1) }) {
            let ranked = live.sorted { (fnv1a("\(d)|\($0)"), $0) > (fnv1a("\(d)|\($1)"), $1) }
            guard let chosen = ranked.first(where: { r in
                let n = load[r, default: 0]
                return n < base || (n == base && fuller < remainder)
            }) else { continue }
            if load[chosen, default: 0] == base { fuller += 1 }
            out[d] = chosen
            load[chosen, default: 0] += 1
        }
        return out
    }

    /// FNV-1a, 64 bits: the same on every host (Swift's Hasher is seeded per process).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
