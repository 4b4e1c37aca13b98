import ArgumentParser
import Foundation
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawEngine
import ReclawJSON
import ReclawSpec
import ReclawTime

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
        let runtime = Runtime(global: global, options: runtimeOptions, audit: .never)
        let window = DurationText.parse(since)!.inSeconds
        let start = Clocks.date().addingTimeInterval(-window)
        let events = runtime.auditLog.read()
        let report: CorrelationReport
        do {
            report = try await CloudTrailCorrelator(client: runtime.client).correlate(events, since: start)
        } catch {
            throw CLIError("cannot read CloudTrail: \(error)")
        }
        if json {
            print(Self.json(report).render(pretty: true))
        } else {
            print("Correlating \(report.entries.count) AWS calls since \(ISO8601.format(start)) with CloudTrail:")
            print(Self.table(report))
            print("\(report.count(.matched)) matched by request id, \(report.count(.matchedByResource)) by resource and time, \(report.count(.pending)) not yet delivered, \(report.count(.missing)) missing.")
        }
        if report.count(.missing) > 0 { throw ExitCode(1) }
    }

    /// One row per call, its columns lined up: status, time, region, call, the resource it acted
    /// on, its request id, the CloudTrail event.
    static func table(_ report: CorrelationReport) -> String {
        let header = ["STATUS", "TIME", "REGION", "CALL", "RESOURCE", "REQUEST ID", "CLOUDTRAIL EVENT"]
        let rows = report.entries.map { e in
            [e.status.rawValue, e.event.eventTime, e.event.awsRegion ?? "-", e.event.eventName ?? "-", e.resource?.name ?? "-",
             e.event.requestID ?? "-", e.cloudTrailEventID ?? "-"].map(SafeText.escaped)
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            "  " + row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The report with each call's resource and the counts per status (`summary`).
    static func json(_ report: CorrelationReport) -> JSONValue {
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        let entries: [JSONValue] = report.entries.map { e in
            let event: JSONValue
            do { event = try JSONValue.parse(e.event.jsonLine) } catch { event = .string(e.event.jsonLine) }  // its own JSON: never
            return ["status": .string(e.status.rawValue), "cloudTrailEventID": text(e.cloudTrailEventID), "event": event,
                    "resource": e.resource.map { ["type": .string($0.type), "name": .string($0.name)] } ?? .null]
        }
        return ["since": .string(ISO8601DateFormatter().string(from: report.since)), "summary": .object(report.summary.mapValues { .int($0) }),
                "entries": .array(entries)]
    }
}
