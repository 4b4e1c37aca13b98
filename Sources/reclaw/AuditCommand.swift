import ArgumentParser
import Foundation
import ReclawAWS
import ReclawAudit
import ReclawDaemon
import ReclawEngine
import ReclawJSON

/// `reclaw audit`: the audit trail's commands.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Work with the audit trail.",
                                                    subcommands: [CorrelateCommand.self])
}

/// `reclaw audit correlate`: find every AWS call of the audit log in CloudTrail.
struct CorrelateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correlate",
        abstract: "Join the audit log with CloudTrail: matched, not yet delivered, missing. Exits 1 when a call is missing.")

    @Option(help: "How far back to look (90s, 30m, 1h, 2d).") var since: String = "1h"
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard DurationText.parse(since) != nil else { throw ValidationError("--since takes a duration such as 90s, 30m, 1h or 2d") }
    }

    func run() async throws {
        let runtime = Runtime(global: global, options: runtimeOptions)
        let window = DurationText.parse(since)!.inSeconds
        let start = Date().addingTimeInterval(-window)
        let events = runtime.auditLog.read()
        let report: CorrelationReport
        do {
            report = try await CloudTrailCorrelator(client: runtime.client).correlate(events, since: start)
        } catch {
            throw CLIError("cannot read CloudTrail: \(error)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("Correlating \(report.entries.count) AWS calls since \(ISO8601.format(start)) with CloudTrail:")
            for e in report.entries {
                let resource = e.event.resources.first?.name ?? "-"
                let target = e.cloudTrailEventID.map { "CloudTrail event \($0)" } ?? "-"
                print("  \(e.status.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)) \(e.event.eventTime) \(e.event.awsRegion ?? "-") \(e.event.eventName ?? "-") \(resource) request \(e.event.requestID ?? "-") → \(target)")
            }
            print("\(report.count(.matched)) matched by request id, \(report.count(.matchedByResource)) by resource and time, \(report.count(.pending)) not yet delivered, \(report.count(.missing)) missing.")
        }
        if report.count(.missing) > 0 { throw ExitCode(1) }
    }
}
