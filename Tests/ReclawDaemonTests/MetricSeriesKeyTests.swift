import Foundation
import Testing
@testable import ReclawOperations

@Suite struct MetricSeriesKeyTests {
    typealias Key = Metrics.SeriesKey
    static let condition = "reclaw_deployment_condition"
    static let lastSuccess = "reclaw_last_successful_reconcile_timestamp_seconds"
    static let drifted = "reclaw_drifted_resources"

    @Test("a series is told apart by its family and its label values, not by its deployment")
    func keysFollowFamilyAndValues() {
        let ready = Key(family: Self.condition, [("deployment", "a"), ("type", "Ready"), ("status", "True")])
        #expect(ready == Key(family: Self.condition, [("deployment", "b"), ("type", "Ready"), ("status", "True")]))
        #expect(ready != Key(family: Self.condition, [("deployment", "a"), ("type", "Ready"), ("status", "False")]))
        #expect(ready != Key(family: Self.condition, [("deployment", "a"), ("type", "Stalled"), ("status", "True")]))
        #expect(Key(family: Self.lastSuccess, [("deployment", "a")]) != Key(family: Self.drifted, [("deployment", "a")]))
        #expect(Key(family: Self.condition, [("type", "a"), ("status", "b\u{1}c")]) == Key(family: Self.condition, [("type", "a"), ("status", "b\u{1}c")]))
    }
}
