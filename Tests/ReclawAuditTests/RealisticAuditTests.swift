import Foundation
import ReclawAWS
import ReclawAudit
import ReclawTestSupport
import Testing

/// The audit trail of an apply under the emulator's realistic mode, joined with a CloudTrail that
/// delivers late: pending at first, then every mutating call matched by its request id.
@Suite struct RealisticAuditTests {
    @Test func aRealisticApplyIsFullyCorrelatedOnceCloudTrailDelivers() async throws {
        let emulator = try Emulator.start(realistic: true, scale: 0.05, behaviours: ["cloudTrailDelivery": ["seconds": 20],
                                                                                    "eventualConsistency": ["seconds": 3]])
        defer { emulator.stop() }
        let s = CloudTrailTests.Setup(emulator: emulator, deadlines: TransientDeadlines().scaled(0.2))
        let start = Date().addingTimeInterval(-5)
        try await s.apply(CloudTrailTests.spec("eu-west-2"))
        let events = s.log.read()
        #expect(!events.contains { $0.eventType == .actionFailed })
        // Calls AWS refused while it settled are in the trail too, with their code and request id.
        let refused = events.filter { $0.eventType == .awsApiCall && $0.errorCode != nil }
        #expect(refused.contains { $0.errorCode?.hasSuffix(".NotFound") == true && $0.requestID != nil }, "\(refused.map { $0.errorCode ?? "" })")
        let calls = events.filter { $0.eventType == .awsApiCall && $0.errorCode == nil }
        let correlator = CloudTrailCorrelator(client: s.client)

        let early = try await correlator.correlate(events, since: start)
        #expect(early.count(.pending) > 0, "CloudTrail delivered at once: the test proves nothing")
        #expect(early.count(.missing) == 0)

        var report = early
        let deadline = ContinuousClock.now + .seconds(60)
        while report.count(.matched) < calls.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            report = try await correlator.correlate(events, since: start)
        }
        #expect(report.entries.count == calls.count)
        #expect(report.count(.matched) == calls.count, "\(report.entries.filter { $0.status != .matched }.map { "\($0.event.eventName ?? "") \($0.status)" })")
    }
}
