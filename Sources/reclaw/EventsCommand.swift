import ArgumentParser
import Foundation
import ReclawAWS
import ReclawDaemon

/// `reclaw events`: the SQS queue and EventBridge rule `reclaw run --events-queue` reads.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Make or remove the queue and rule that bring CloudTrail's events to `reclaw run --events-queue`.",
        subcommands: [Setup.self, Teardown.self])

    /// Where: the regions named, else those of the specs in SOURCE, else the environment's; plus
    /// each partition's home region, where CloudTrail delivers IAM's events.
    struct Placement: ParsableArguments {
        @Option(help: "The queue's name (the rule gets the same name); the shipped IAM policy allows `reclaw-events`.")
        var queue: String
        @Option(name: .customLong("region"), help: "A region the deployments use (repeatable; us-east-1 is added for IAM's events).")
        var regions: [String] = []
        @Argument(help: "A directory or git URL of specs whose regions to use when no --region is given.")
        var source: String?
        @Option(help: "The branch, tag or commit of a git source.") var ref: String = "main"
        @Option(help: "The directory of the source that holds the specs.") var path: String = "."

        func validate() throws {
            // SQS queue names: 1 to 80 letters, digits, - and _ (a FIFO queue cannot be an EventBridge target here).
            guard (1...80).contains(queue.count), queue.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw ValidationError("--queue takes 1 to 80 letters, digits, hyphens and underscores")
            }
        }

        func resolve(_ runtime: Runtime) async throws -> [String] {
            var regions = Set(regions)
            if regions.isEmpty, let source {
                let (targets, _, _) = try await runtime.targets(try SourceOptions.parse([source, "--ref", ref, "--path", path]))
                regions = Set(targets.map(\.spec.region))
                if regions.isEmpty { throw CLIError("no valid deployment in \(source): name the regions with --region") }
            }
            if regions.isEmpty, let region = runtime.environment.region { regions = [region] }
            guard !regions.isEmpty else { throw CLIError("name the regions with --region or give a SOURCE of specs (AWS_REGION is not set either)") }
            return EventsQueueSetup.regions(for: regions)
        }

        /// Runs `body` in each region in turn; the first failure stops, naming its region and `doing`.
        func inEachRegion(_ global: GlobalOptions, doing: String,
                          _ body: (EventsQueueSetup, String) async throws -> Void) async throws {
            let runtime = Runtime(global: global, options: try RuntimeOptions.parse([]))
            let setup = EventsQueueSetup(client: runtime.client, queue: queue)
            for region in try await resolve(runtime) {
                do {
                    try await body(setup, region)
                } catch {
                    throw CLIError("\(region): cannot \(doing) the events queue \(queue): \(error)")
                }
            }
        }
    }

    /// `reclaw events setup`.
    struct Setup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup",
            abstract: "In each region: an encrypted SQS queue only EventBridge may send to, and a rule sending it CloudTrail's EC2, IAM and SSM API calls.")

        @OptionGroup var placement: Placement
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await placement.inEachRegion(global, doing: "set up") { setup, region in
                let made = try await setup.setUp(region: region)
                print("\(region): queue \(made.queueArn) (\(made.createdQueue ? "created" : "updated")), rule \(made.ruleArn) sending to it")
            }
            print("Run the daemon with --events-queue \(placement.queue).")
        }
    }

    /// `reclaw events teardown`.
    struct Teardown: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "teardown", abstract: "Remove the rule and the queue `reclaw events setup` made, in each region.")

        @OptionGroup var placement: Placement
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await placement.inEachRegion(global, doing: "remove") { setup, region in
                let removed = try await setup.tearDown(region: region)
                let what = [removed.rule ? "rule" : nil, removed.queue ? "queue" : nil].compactMap { $0 }
                print("\(region): \(what.isEmpty ? "nothing to remove" : "removed the " + what.joined(separator: " and "))")
            }
        }
    }
}
