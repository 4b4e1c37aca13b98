import Foundation
@testable import ReclawAlerts
import ReclawAudit
import ReclawTime
@testable import ReclawController
@testable import ReclawDaemon
import ReclawEngine
@testable import ReclawEvents
import ReclawJSON
import Testing

/// Who is the author of a drift from CloudTrail's events, when an alert about it is a repeat, and
/// how often events may wake a drift check: plain values, on a manual clock.
@Suite struct AttributionRulesTests {
    static let group = "sg-0abc1234def567890"

    static func who(_ user: String, _ eventName: String) -> AuditEvent.Attribution {
        AuditEvent.Attribution(eventName: eventName, eventTime: "2026-11-25T01:02:03.000Z", userIdentityArn: "arn:aws:iam::111122223333:user/\(user)",
                               accessKeyId: nil, sourceIPAddress: nil, cloudTrailEventID: UUID().uuidString)
    }

    static func notice(_ eventName: String, targets: [String], mentions: [String]) -> ChangeNotice {
        ChangeNotice(deployment: "alpha", resources: mentions, targets: targets, attribution: who("mallory", eventName), receivedAt: Date())
    }

    static let opened = DriftItem(key: "instance-sg", resourceID: group, attribute: "ingress", expected: [], actual: ["tcp/22 0.0.0.0/0"])

    @Test func aNoticeIsTheAuthorOnlyOfWhatItsCallCanChangeOnItsTarget() {
        let target = Authorship.Target(kind: .securityGroup, resourceID: Self.group, attribute: "ingress")
        let decoy = Self.notice("CreateTags", targets: ["sg-0fed9876cba543210"], mentions: [Self.group, "sg-0fed9876cba543210"])
        #expect(!decoy.isAuthor(of: target))
        #expect(Self.notice("AuthorizeSecurityGroupIngress", targets: [Self.group], mentions: [Self.group]).isAuthor(of: target))
        #expect(!Self.notice("CreateTags", targets: [Self.group], mentions: [Self.group]).isAuthor(of: target), "tags do not change rules")
        #expect(DriftChecker.targets([Self.opened]) == [target])
    }

    @Test func theSameChangeByAnotherActorIsANewAlert() {
        let byMallory = DriftAlertKey(items: [Self.opened], attribution: [Self.who("mallory", "AuthorizeSecurityGroupIngress")])
        let again = DriftAlertKey(items: [Self.opened], attribution: [Self.who("mallory", "AuthorizeSecurityGroupIngress")])
        let byTrent = DriftAlertKey(items: [Self.opened], attribution: [Self.who("trent", "AuthorizeSecurityGroupIngress")])
        #expect(byMallory == again && byMallory.description == again.description, "the same change by the same actor is a repeat")
        #expect(byMallory.description != byTrent.description)
        var wider = Self.opened
        wider.actual = ["tcp/22 0.0.0.0/0", "tcp/80 0.0.0.0/0"]
        #expect(DriftAlertKey(items: [wider], attribution: [Self.who("mallory", "x")]).description != byMallory.description, "another value")
        #expect(byMallory.alertKey("corrected", deployment: "alpha").hasPrefix("corrected/alpha/"))

        var memory = AlertMemory(window: .seconds(3600))
        let sent = [(byMallory, 0), (again, 60), (byTrent, 120)].map { key, at in
            memory.shouldSend(key.alertKey("corrected", deployment: "alpha"), now: .seconds(at))
        }
        #expect(sent == [true, false, true])
    }

    @Test func eventsWakeAtMostOneDriftCheckPerDeploymentPerWindow() {
        let clock = ManualClock()
        var checks = NoticeCoalescer(window: .seconds(5))
        let first = checks.due("alpha", now: clock.now())
        #expect(first == clock.now(), "the first event after a quiet spell is checked at once")
        clock.advance(by: .seconds(1))
        let next = checks.due("alpha", now: clock.now())
        #expect(next == .seconds(5))
        // A thousand more events within the window all join that one check.
        var dues: Set<Duration> = []
        for _ in 0..<1000 {
            clock.advance(by: .milliseconds(3))
            dues.insert(checks.due("alpha", now: clock.now()))
        }
        #expect(dues == [next])
        let beta = checks.due("beta", now: clock.now())
        #expect(beta == clock.now(), "another deployment has its own window")
        clock.advance(by: .seconds(30))
        let later = checks.due("alpha", now: clock.now())
        #expect(later == clock.now())
        #expect(checks.count == 1, "quiet deployments are forgotten")
    }

    @Test func aCheckAskedForWhileTheDeploymentIsBusyWaitsForItsWindow() {
        var scheduler = WorkScheduler(settings: .init(interval: .seconds(60), driftInterval: .seconds(3600), workers: 1))
        scheduler.track(["alpha"], now: .zero)
        scheduler.checkDrift("alpha", at: .seconds(5))
        #expect(scheduler.nextDrift("alpha") == .seconds(5))
        scheduler.checkDrift("alpha", at: .seconds(9))
        #expect(scheduler.nextDrift("alpha") == .seconds(5), "an earlier check is kept")
    }
}
