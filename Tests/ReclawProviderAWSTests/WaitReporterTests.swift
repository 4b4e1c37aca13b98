import Foundation
import Logging
import ReclawAWS
import ReclawProviderAWS
import Testing

/// What the Reconciling condition says while an apply waits, from plain values.
@Suite struct WaitReporterTests {
    static func reporter(_ written: Shared<[String?]>) -> WaitReporter {
        WaitReporter(deployment: "alpha", planID: "p1", logger: Logger(label: "test.waits"), refresh: .seconds(10), briefThreshold: .seconds(2)) { message in
            written.update { $0.append(message) }
        }
    }

    @Test func theConditionListsEveryWaitUnderWayWithHowLongItHasLasted() async {
        let written = Shared<[String?]>([])
        let r = Self.reporter(written)
        let a = WaitRecord(what: "endpoint vpce-1 to become available", deadline: .seconds(600))
        let b = WaitRecord(what: "instance i-1 to be running", deadline: .seconds(600))
        await r.waitBegan(a)
        await r.waitBegan(b)
        await r.waitContinues(a, elapsed: .seconds(5))  // too soon to write again
        await r.waitContinues(a, elapsed: .seconds(40))
        await r.waitEnded(b, elapsed: .seconds(41), outcome: .done)
        await r.waitEnded(a, elapsed: .seconds(45), outcome: .done)
        #expect(written.value == [
            "waiting for endpoint vpce-1 to become available (deadline 10 min)",
            "waiting for endpoint vpce-1 to become available (deadline 10 min); waiting for instance i-1 to be running (deadline 10 min)",
            "waiting for endpoint vpce-1 to become available (40 s so far; deadline 10 min); waiting for instance i-1 to be running (deadline 10 min)",
            "waiting for endpoint vpce-1 to become available (40 s so far; deadline 10 min)",
            nil,
        ])
    }

    @Test func aBriefRetryShowsOnlyOnceItLasts() async {
        let written = Shared<[String?]>([])
        let r = Self.reporter(written)
        let quick = WaitRecord(what: "vpc-1 to become visible in EC2", deadline: .seconds(120), brief: true)
        await r.waitBegan(quick)
        await r.waitContinues(quick, elapsed: .milliseconds(500))
        await r.waitEnded(quick, elapsed: .milliseconds(700), outcome: .done)
        #expect(written.value.isEmpty)
        let slow = WaitRecord(what: "ec2 RunInstances to be accepted (throttled: RequestLimitExceeded)", deadline: .seconds(120), brief: true)
        await r.waitBegan(slow)
        await r.waitContinues(slow, elapsed: .seconds(3))
        await r.waitEnded(slow, elapsed: .seconds(4), outcome: .gaveUp(code: "RequestLimitExceeded"))
        #expect(written.value == ["waiting for ec2 RunInstances to be accepted (throttled: RequestLimitExceeded) (3 s so far; deadline 2 min)", nil])
    }
}
