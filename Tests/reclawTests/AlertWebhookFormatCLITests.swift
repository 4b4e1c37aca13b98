import Foundation
import ReclawTestSupport
import Testing

/// A webhook format the operator mistyped stops `reclaw run` at once, naming it.
@Suite struct AlertWebhookFormatCLITests {
    @Test func anUnknownFormatPrefixIsAUsageErrorOnTheCommandLineAndInTheWebhookFile() async throws {
        let d = MetricsAddressTests.Daemon()
        let flag = try await Command.run(d.arguments + ["--alert-webhook", "teams+https://example.com/x", "--once"], environment: d.environment)
        #expect(flag.status == 64, "\(flag.stderr)")
        #expect(flag.stderr.contains("teams+"), "\(flag.stderr)")
        let file = d.dir.write("hooks.txt", "# hooks\nslack+https://chat.example.com/x\nrocket+https://chat.example.com/y\n")
        let listed = try await Command.run(d.arguments + ["--alert-webhook-file", file, "--once"], environment: d.environment)
        #expect(listed.status == 64, "\(listed.stderr)")
        #expect(listed.stderr.contains("hooks.txt:3") && listed.stderr.contains("rocket+"), "\(listed.stderr)")
    }
}
