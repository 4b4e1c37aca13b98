import Foundation
import ReclawController
import ReclawDaemon
import ReclawTestSupport
import Testing

/// The policy command as the gate runs it: through /bin/sh, the plan in a private file and on
/// standard input, exit 0 allowing; the time-out on an injected sleep.
@Suite struct PolicyGateUnitTests {
    let plan = #"{"format_version":"2.0"}"#

    @Test func exitZeroAllowsAndTheCommandSeesThePlanTwiceAndWhatItIs() async {
        let check = #"test "$(cat)" = '{"format_version":"2.0"}' && test "$(cat "$RECLAW_PLAN_JSON")" = "$(cat "$RECLAW_PLAN_JSON")" "#
            + #"&& test "$(stat -c %a "$RECLAW_PLAN_JSON")" = 600 && test "$RECLAW_DEPLOYMENT" = alpha && test "$RECLAW_REVISION" = r1"#
        let verdict = await PolicyGate(command: check).evaluate(planJSON: plan, deployment: "alpha", revision: "r1")
        #expect(verdict.allowed, "\(verdict)")
    }

    @Test func anyOtherEndDeniesWithTheOutputKept() async {
        let denied = await PolicyGate(command: "echo 'CKV_AWS_24 failed'; echo 'a warning' >&2; exit 4").evaluate(planJSON: plan, deployment: "a", revision: "r")
        #expect(denied.result == .denied && denied.status == 4 && !denied.killedBySignal)
        #expect(denied.standardOutput == "CKV_AWS_24 failed\n" && denied.standardError == "a warning\n")
        #expect(denied.firstLines() == "CKV_AWS_24 failed" && denied.output.contains("a warning"))
        let quiet = await PolicyGate(command: "echo 'only here' >&2; exit 1").evaluate(planJSON: plan, deployment: "a", revision: "r")
        #expect(quiet.firstLines() == "only here")
        let killed = await PolicyGate(command: "kill -9 $$").evaluate(planJSON: plan, deployment: "a", revision: "r")
        #expect(killed.result == .denied && killed.killedBySignal)
        let missing = await PolicyGate(command: "/nonexistent/policy-tool").evaluate(planJSON: plan, deployment: "a", revision: "r")
        #expect(missing.result == .denied && missing.status == 127)
    }

    @Test func aCommandStillRunningWhenTheTimeoutPassesIsStoppedAndDenies() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("reclaw-gate-\(UUID().uuidString).pid").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        // The injected sleep returns at once: the timeout has passed as far as the gate knows.
        let late = await PolicyGate(command: "echo $$ > \(pidFile); exec sleep 300", timeout: .seconds(60), sleep: { _ in })
            .evaluate(planJSON: plan, deployment: "a", revision: "r")
        #expect(late.result == .timedOut && !late.allowed)
        #expect(late.describe(timeout: .seconds(60)) == "denied (no answer within 60s)")
        // The command was stopped, not left running (nor waited for).
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await waitUntil(30) { kill(pid, 0) != 0 }, "the policy command \(pid) still runs")
    }

    @Test func outputIsBounded() async {
        let loud = await PolicyGate(command: "head -c 100000 /dev/zero | tr '\\0' x; exit 1").evaluate(planJSON: plan, deployment: "a", revision: "r")
        #expect(loud.standardOutput.utf8.count == PolicyGate.outputLimit)
        #expect(loud.firstLines().count <= 201)
    }
}
