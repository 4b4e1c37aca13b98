import Foundation
import ReclawTestSupport
import Testing

/// `reclaw events setup/teardown` and `reclaw run --events-queue` as an operator runs them: the real
/// binary, the emulator's EventBridge and SQS, a hand-made change, and a kill -9.
@Suite struct EventsCommandTests {
    let emulator = Emulator.shared

    func reclaw(_ args: [String], env: [String: String]) async throws -> CommandResult {
        try await Command.run([RepoPaths.reclawBinary] + args, environment: env)
    }

    /// The queue's attributes, its rule's pattern and targets, read with boto3.
    func inspect(queue: String, region: String) async throws -> [String: Any] {
        let out = try await Command.check(["python3", "-c", """
        import boto3, json, sys
        url, queue, region = sys.argv[1:4]
        kw = dict(endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        sqs, events = boto3.client("sqs", **kw), boto3.client("events", **kw)
        q = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
        rule = events.describe_rule(Name=queue)
        targets = events.list_targets_by_rule(Rule=queue)["Targets"]
        print(json.dumps({"attributes": attrs, "ruleArn": rule["Arn"], "pattern": json.loads(rule["EventPattern"]), "targets": targets}))
        """, emulator.url, queue, region])
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    }

    @Test func setupMakesAnEncryptedQueueOnlyItsRuleFeedsInEachRegionAgainAndAgainAndTeardownRemovesIt() async throws {
        let dir = TemporaryDirectory("reclaw-events")
        let queue = uniqueName("reclaw-events")
        let region = "af-south-1"
        dir.write("specs/app.yaml", minimalSpec(uniqueName("evs"), region: region))
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        // The regions come from the specs, with us-east-1 for IAM's events.
        let first = try await reclaw(["events", "setup", "--queue", queue, dir.file("specs")], env: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("\(region): queue arn:aws:sqs:\(region):123456789012:\(queue) (created), rule arn:aws:events:\(region):123456789012:rule/\(queue)"),
                "\(first.stdout)")
        #expect(first.stdout.contains("us-east-1: queue arn:aws:sqs:us-east-1:123456789012:\(queue) (created)"))
        let again = try await reclaw(["events", "setup", "--queue", queue, "--region", region], env: env)
        #expect(again.status == 0 && again.stdout.contains("\(region): queue arn:aws:sqs:\(region):123456789012:\(queue) (updated)"), "\(again.stdout)\(again.stderr)")

        let made = try await inspect(queue: queue, region: region)
        let attributes = try #require(made["attributes"] as? [String: String])
        #expect(attributes["SqsManagedSseEnabled"] == "true" && attributes["VisibilityTimeout"] == "120")
        let policy = try #require(try JSONSerialization.jsonObject(with: Data((attributes["Policy"] ?? "").utf8)) as? [String: Any])
        let statements = try #require(policy["Statement"] as? [[String: Any]])
        let allow = try #require(statements.first { $0["Effect"] as? String == "Allow" })
        #expect((allow["Principal"] as? [String: String])?["Service"] == "events.amazonaws.com" && allow["Action"] as? String == "sqs:SendMessage")
        #expect(((allow["Condition"] as? [String: Any])?["ArnEquals"] as? [String: String])?["aws:SourceArn"] == made["ruleArn"] as? String)
        #expect(statements.contains { $0["Effect"] as? String == "Deny" && $0["Action"] as? String == "sqs:SendMessage" }, "other senders are not denied")
        let pattern = try #require(made["pattern"] as? [String: Any])
        #expect(pattern["detail-type"] as? [String] == ["AWS API Call via CloudTrail"])
        #expect(Set(pattern["source"] as? [String] ?? []) == ["aws.ec2", "aws.iam", "aws.ssm"])
        let targets = try #require(made["targets"] as? [[String: Any]])
        #expect(targets.map { $0["Arn"] as? String } == [attributes["QueueArn"]])

        let removed = try await reclaw(["events", "teardown", "--queue", queue, "--region", region], env: env)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.contains("\(region): removed the rule and queue") && removed.stdout.contains("us-east-1: removed the rule and queue"), "\(removed.stdout)")
        let twice = try await reclaw(["events", "teardown", "--queue", queue, "--region", region], env: env)
        #expect(twice.status == 0 && twice.stdout.contains("\(region): nothing to remove"), "\(twice.stdout)\(twice.stderr)")
        let bad = try await reclaw(["events", "setup", "--queue", "no spaces"], env: env)
        #expect(bad.status == 64, "\(bad.stderr)")
    }

    /// A daemon with `--events-queue`, its log in a file.
    final class Daemon: @unchecked Sendable {
        let process = Process()
        let log: String

        init(source: String, queue: String, env: [String: String], log: String) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.executableURL = URL(fileURLWithPath: RepoPaths.reclawBinary)
            process.arguments = ["run", "--source", source, "--interval", "1s", "--events-queue", queue]
            process.environment = env
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
        }

        var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        /// The CloudTrail event ids of the changes by hand this daemon woke drift checks for. (An
        /// event of reclaw's own create can arrive before its request id is in the audit log: it
        /// wakes a check too, which finds nothing; on a loaded machine, after the first change by
        /// hand. Only the intruders' count.)
        var noticed: [String] {
            text.split(separator: "\n").filter {
                $0.contains("CloudTrail reports a change") && $0.contains("event.name=AuthorizeSecurityGroupIngress") && $0.contains(":user/intruder-")
            }.compactMap { line in
                line.range(of: "event.id=").map { String(line[$0.upperBound...].prefix { $0 != " " }) }
            }
        }

        func stop(_ signal: Int32 = SIGTERM) {
            guard process.isRunning else { return }
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    /// Messages in the queue, visible or not.
    func queued(_ queue: String, region: String) async throws -> Int {
        let out = try await Command.check(["python3", "-c", """
        import boto3, sys
        url, queue, region = sys.argv[1:4]
        sqs = boto3.client("sqs", endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        a = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"], AttributeNames=["All"])["Attributes"]
        print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))
        """, emulator.url, queue, region])
        return Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func aPortOpenedByHandIsCorrectedAndAttributedAtOnceAndAKillBeforeTheCheckReplaysTheEvent() async throws {
        let dir = TemporaryDirectory("reclaw-events-run")
        let upstream = try Upstream()
        let name = uniqueName("evrun")
        let region = "ap-southeast-3"
        let queue = uniqueName("reclaw-events")
        try upstream.commit(["app.yaml": minimalSpec(name, region: region)])
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        let setup = try await reclaw(["events", "setup", "--queue", queue, "--region", region], env: env)
        #expect(setup.status == 0, "\(setup.stderr)")
        // A short visibility timeout, so a message a killed daemon held comes back within seconds.
        try await Command.check(["python3", "-c", """
        import boto3, sys
        url, queue, region = sys.argv[1:4]
        sqs = boto3.client("sqs", endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        sqs.set_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"], Attributes={"VisibilityTimeout": "4"})
        """, emulator.url, queue, region])
        let audit = dir.file("state/audit.log")
        func corrections() -> [[String: Any]] {
            ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { ["DriftCorrected", "DriftDetected"].contains($0["eventType"] as? String) && $0["deployment"] as? String == name }
        }

        let first = try Daemon(source: upstream.url, queue: queue, env: env, log: dir.file("first.log"))
        defer { first.stop(SIGKILL) }
        #expect(await waitUntil(180) { first.text.contains("applied") && first.text.components(separatedBy: "reading CloudTrail's events").count > 2 },
                "\(first.text.suffix(3000))")
        #expect(first.text.contains("drift-interval=1h"), "--events-queue makes the default drift interval an hour")

        // The demo: a port opened by hand is corrected, naming who, within seconds (the poll is an hour away).
        let who = try await emulator.openPort(8080, deployment: name, region: region).arn
        #expect(await waitUntil(30) { corrections().contains { $0["eventType"] as? String == "DriftCorrected" } }, "\(first.text.suffix(3000))")
        let attribution = try #require((corrections().first?["attribution"] as? [[String: Any]])?.first)
        #expect(attribution["userIdentityArn"] as? String == who && attribution["actorType"] as? String == "human")

        // The next change's drift check hangs (its reads are slowed); the daemon is killed after it
        // took the message and before the check ran.
        let slow = try await emulator.injectDelay(service: "ec2", region: region, userAgent: "reclaw/", operation: "DescribeSecurityGroups", milliseconds: 60_000)
        try await emulator.openPort(9090, deployment: name, region: region)
        // Counted by event id: on a loaded machine the held message may show again after its
        // visibility timeout, and be noticed twice.
        #expect(await waitUntil(30) { Set(first.noticed).count == 2 }, "\(first.text.suffix(3000))")
        let replayed = try #require(first.noticed.last)
        first.stop(SIGKILL)
        try await emulator.removeFault(slow)
        // At least that message (events of reclaw's own may still be on their way); the replay below names it.
        #expect(try await queued(queue, region: region) >= 1, "the killed daemon's message was deleted before its check")

        let second = try Daemon(source: upstream.url, queue: queue, env: env, log: dir.file("second.log"))
        defer { second.stop() }
        #expect(await waitUntil(60) { second.noticed.contains(replayed) }, "the message was not replayed: \(second.text.suffix(3000))")
        let drained = await waitUntil(30) { (try? await queued(queue, region: region)) == 0 }
        #expect(drained, "the replayed message was not deleted once handled")
        #expect(await waitUntil(30) { corrections().filter { $0["eventType"] as? String == "DriftCorrected" }.count == 2 })
        second.stop()
        #expect(second.process.terminationReason == .exit && second.process.terminationStatus == 0, "\(second.text.suffix(2000))")
        #expect(second.text.contains("reclaw stopped"))
        let teardown = try await reclaw(["events", "teardown", "--queue", queue, "--region", region], env: env)
        #expect(teardown.status == 0)
    }
}
