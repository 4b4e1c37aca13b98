import Foundation
import ReclawCatalog
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawJSON
import ReclawState
import ReclawTime
import Testing

/// The daemon's service loop on a manual clock over the in-memory reconciler: when it retries,
/// and that one deployment's slow apply holds up no other. Time moves only when the test moves it.
@Suite struct SeamLoopTests {
    @Test("a failed apply is retried after each backoff on the manual clock, never before, until it converges")
    func failedApplyIsRetriedWithBackoff() async throws {
        let h = SeamHarness(options: DaemonOptions(interval: .seconds(3600), driftInterval: .seconds(3600), backoffMin: .seconds(10),
                                                   backoffMax: .seconds(900)))
        h.cloud.script("app", .fails(code: "InternalError"), .fails(code: "InternalError"), .fails(code: "InternalError"))
        h.write(["app.yaml": SeamHarness.spec("app")])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await h.daemon.run() }
            try await h.until { h.failures("app") == 1 && h.idle }
            try await h.advance(until: { h.status("app")?.holds(.ready) == true }, limit: .seconds(200))
            group.cancelAll()
        }
        let applies = h.cloud.calls(.apply, "app").map(\.at)
        try #require(applies.count == 4, "applied at \(applies)")
        #expect(h.status("app")?.holds(.ready) == true)
        // Backoff doubles from 10 s, each within ±20% jitter; the clock jumps to each timer.
        for (i, base) in [10.0, 20.0, 40.0].enumerated() {
            let gap = (applies[i + 1] - applies[i]).inSeconds
            #expect(gap >= base * 0.8, "attempt \(i + 2) came \(gap) s after the one before, before its backoff")
            #expect(gap <= base * 1.2, "attempt \(i + 2) came \(gap) s after the one before, after its backoff")
        }
    }

    @Test("drift on one deployment is corrected while another's apply is still held up")
    func slowApplyHoldsUpNoOther() async throws {
        let h = SeamHarness(options: DaemonOptions(interval: .seconds(3600), driftInterval: .seconds(10), concurrency: 4))
        h.write(["fast.yaml": SeamHarness.spec("fast")])
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await h.daemon.run() }
            try await h.until { h.status("fast")?.holds(.ready) == true && h.idle }
            h.cloud.script("slow", .waits(gate))
            h.write(["slow.yaml": SeamHarness.spec("slow")])
            h.daemon.requestFetch()
            try await h.until { gate.waiting == 1 }
            #expect(h.status("slow")?.condition(.reconciling)?.reason == .applying)

            h.cloud.change("fast", Components.instanceSG, "ingress", to: .array([.string("tcp/22 from 0.0.0.0/0")]))
            let corrected = { h.cloud.attribute("fast", Components.instanceSG, "ingress") == .array([]) }
            try await h.advance(until: corrected, limit: .seconds(60), settled: { h.running == 1 })
            #expect(corrected(), "the drift on fast waited for slow's apply")
            try await h.until { h.events(.driftCorrected).contains { $0.deployment == "fast" } }
            #expect(gate.waiting == 1 && h.status("slow")?.holds(.ready) != true, "the slow apply finished first; the test proves nothing")

            gate.open()
            try await h.until { h.status("slow")?.holds(.ready) == true && h.idle }
            group.cancelAll()
        }
    }
}
