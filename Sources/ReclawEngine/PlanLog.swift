import Foundation
import Logging
import ReclawJSON

/// How a plan goes into the process log: one record. Its message is the plan's header; a text log
/// prints the rest of the block under it on indented lines (`blockKey`), with the record's
/// metadata on the header line, never after the block; a JSON log carries the plan as a
/// structured field (`plan`, the document of `PlanJSON` for this deployment) instead.
public enum PlanLog {
    /// Metadata holding lines a text log prints under the message; JSON logs leave it out.
    public static let blockKey = "log.block"
    /// Metadata holding a structured value (a `JSONValue`): nested in JSON logs, left out of text ones.
    public static let planKey = "plan"

    /// The message and metadata of a plan's log record. `heading` goes before the plan's header.
    public static func record(_ plan: Plan, heading: String? = nil, vocabulary: any PlanVocabulary, reclawVersion: String, timestamp: Date,
                              metadata: Logger.Metadata = [:]) -> (message: Logger.Message, metadata: Logger.Metadata) {
        var lines = PlanRenderer.text(plan).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines.removeFirst()
        while lines.first == "" { lines.removeFirst() }
        var m = metadata
        m["deployment"] = "\(plan.deployment)"
        m["plan.id"] = "\(plan.id)"
        m[blockKey] = .string(lines.joined(separator: "\n"))
        m[planKey] = .stringConvertible(PlanJSON.document([plan], vocabulary: vocabulary, reclawVersion: reclawVersion, timestamp: timestamp))
        return ("\(heading.map { $0 + ": " } ?? "")\(header)", m)
    }
}
