import ArgumentParser
import ReclawAWS
import ReclawGit
import ReclawHTTP

/// The `reclaw` command: a GitOps reconciler for OpenClaw deployments on AWS.
@main
struct Reclaw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reclaw",
        abstract: "Keep OpenClaw deployments on AWS exactly as a git repository of YAML specs says.",
        version: "reclaw \(ReclawVersion.string) (libgit2 \(GitLibraryInfo.version); \(HTTPLibrary.version.split(separator: " ").first ?? ""))",
        subcommands: [ValidateCommand.self, SchemaCommand.self, PlanCommand.self, ApplyCommand.self, DestroyCommand.self, DriftCommand.self, RunCommand.self, StatusCommand.self, PostureCommand.self, AuditCommand.self, LeaseCommand.self, EventsCommand.self]
    )
}

