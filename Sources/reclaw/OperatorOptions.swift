import ArgumentParser
import Foundation
import ReclawController
import ReclawDaemon
import ReclawProviderAWS

/// What the operator running reclaw decides, not the specs' authors: the permissions boundary of
/// every role reclaw creates, and how often the attributes AWS returns one resource at a time are
/// read again. Shared by the commands that observe or change AWS.
struct OperatorOptions: ParsableArguments {
    static let boundaryVariable = "RECLAW_PERMISSIONS_BOUNDARY"

    @Option(help: ArgumentHelp(
        "The managed policy ARN every IAM role reclaw creates carries as its permissions boundary (default: $RECLAW_PERMISSIONS_BOUNDARY).",
        discussion: "Without it roles get no boundary (and one already set is left alone); the shipped IAM policy requires one.",
        valueName: "arn"))
    var permissionsBoundary: String?

    @Option(help: "How long what takes one AWS call per resource (a VPC's DNS attributes, an instance profile's tags) is trusted before it is read again: 5m, 15m, 1h.")
    var slowReadInterval: String = "15m"

    /// The boundary from the option, else from the environment.
    var boundary: String? {
        if let permissionsBoundary { return permissionsBoundary }
        return ProcessInfo.processInfo.environment[Self.boundaryVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    func validate() throws {
        if let arn = boundary, !Self.isPolicyARN(arn) {
            let from = permissionsBoundary == nil ? "$\(Self.boundaryVariable)" : "--permissions-boundary"
            throw ValidationError("\(from) takes a managed policy ARN such as arn:aws:iam::111122223333:policy/reclaw-instance-boundary, not '\(arn)'")
        }
        guard let d = DurationText.parse(slowReadInterval), d > .zero else {
            throw ValidationError("--slow-read-interval takes a duration such as 5m, 15m or 1h")
        }
    }

    /// `arn:PARTITION:iam::ACCOUNT:policy/[PATH/]NAME`.
    static func isPolicyARN(_ s: String) -> Bool {
        let parts = s.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "iam", parts[3].isEmpty,
              parts[4].count == 12 && parts[4].allSatisfy(\.isNumber) || parts[4] == "aws" else { return false }
        return parts[5].hasPrefix("policy/") && parts[5].count > "policy/".count && !parts[5].hasSuffix("/")
    }

    var providerSettings: ProviderSettings {
        ProviderSettings(permissionsBoundary: boundary, slowReadInterval: DurationText.parse(slowReadInterval) ?? ProviderSettings.defaultSlowReadInterval)
    }
}
