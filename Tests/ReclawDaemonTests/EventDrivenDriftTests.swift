import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawController
import ReclawDaemon
import ReclawEvents
import ReclawTestSupport
import Testing

/// CloudTrail's events through EventBridge and SQS wake the drift check of the deployment that was
/// touched, and name who touched it, long before a one-hour drift poll. An emulator of this suite's
/// own delivers the events after a delay, as AWS does.
@Suite struct EventDrivenDriftTests {
    static let emulator: Emulator = try! Emulator.start()
    static let delay = 2.0
    /// The delivery delay and the time a loaded machine takes to check and correct, far below the
    /// hour-long drift interval; bench/events.py measures the latency itself.
    static let bound = Duration.seconds(delay + 60)

    /// A daemon reading a queue of its own (set up in `region` and us-east-1, for IAM's events),
    /// after its deployment is applied and the listener reads both regions.
    struct Setup {
        let h: DaemonHarness
        let listener: EventListener
        let queue: String
        let name: String
        let region: String

        init(region: String, driftInterval: Duration = .seconds(3600), makeQueue: Bool = true,
             emulator: Emulator = EventDrivenDriftTests.emulator) async throws {
            try await emulator.setEventDelivery(enabled: true, delaySeconds: EventDrivenDriftTests.delay)
            name = uniqueName("ev")
            self.region = region
            queue = uniqueName("reclaw-events")
            let upstream = try Upstream()
            try upstream.commit(["app.yaml": DaemonHarness.spec(name, region: region)])
            h = try DaemonHarness(emulator: emulator, upstream: upstream, options: DaemonOptions(interval: .seconds(1), driftInterval: driftInterval))
            var logger = Logger(label: "test.events")
            logger.logLevel = ProcessInfo.processInfo.environment["RECLAW_TEST_EVENTS_LOG"] == "1" ? .debug : .warning
            listener = EventListener(daemon: h.daemon, client: emulator.client(logger: logger),
                                     settings: .init(queue: queue, regionRefresh: .seconds(1), retryDelay: .seconds(1)), created: h.created, logger: logger)
            if makeQueue { try await makeQueues() }
        }

        func makeQueues() async throws {
            for r in EventsQueueSetup.regions(for: [region]) { _ = try await EventsQueueSetup(client: h.client, queue: queue).setUp(region: r) }
        }

        /// Waits until the deployment is applied, the listener reads both regions and the apply's
        /// own events have left the queues.
        func ready() async throws {
            #expect(await eventually { h.status(name)?.condition(.ready)?.status == .true }, "the deployment was not applied")
            #expect(await eventually(.seconds(30)) { listener.regions.isSuperset(of: [region, "us-east-1"]) }, "the listener reads \(listener.regions)")
            let drained = await eventually(.seconds(90)) {
                let here = try? await queued(in: region), iam = try? await queued(in: "us-east-1")
                return here == 0 && iam == 0
            }
            #expect(drained, "the apply's own events are still queued")
        }

        /// Waits for DriftCorrected of this deployment; returns it and how long it took from `since`.
        func corrected(since: ContinuousClock.Instant, within: Duration) async throws -> (AuditEvent, Duration) {
            var at = ContinuousClock.now
            let seen = await eventually(within) {
                at = ContinuousClock.now
                return h.events(.driftCorrected).contains { $0.deployment == name }
            }
            #expect(seen, "no DriftCorrected within \(within)")
            return (try #require(h.events(.driftCorrected).first { $0.deployment == name }), at - since)
        }

        /// `kind="drift"` reconciles the daemon counted for this deployment: its drift checks.
        var driftChecks: Int { counter("reclaw_reconcile_total{deployment=\"\(name)\",kind=\"drift\"") }

        func counter(_ prefix: String) -> Int {
            h.daemon.metrics.render().split(separator: "\n").filter { $0.hasPrefix(prefix) }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
        }

        /// Messages still in the queue of `region`, visible or not.
        func queued(in region: String) async throws -> Int {
            let sqs = SQSClient(client: h.client, region: region)
            let url = try #require(try await sqs.queueURL(queue))
            let a = try await sqs.attributes(url, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            return (Int(a["ApproximateNumberOfMessages"] ?? "") ?? 0) + (Int(a["ApproximateNumberOfMessagesNotVisible"] ?? "") ?? 0)
        }
    }

    /// Changes one of the deployment's resources with a new IAM user's key: `ingress` opens tcp/8080
    /// on the instance security group, `association` takes the public route table off its subnet (an
    /// event naming only the association's id), `policy` rewrites the role's inline `bedrock` policy,
    /// `parameter` overwrites the model parameter, `dns` turns the VPC's DNS hostnames off, `decoy` tags a new group of its own with the
    /// instance security group's id. `userAgent` replaces boto3's. Returns the user's ARN and key.
    static func tamper(_ kind: String, _ name: String, region: String, userAgent: String = "") async throws -> (arn: String, key: String) {
        let out = try await Command.check(["python3", "-c", """
        import boto3, json, sys
        from botocore.config import Config
        url, kind, name, region, user, ua = sys.argv[1:7]
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        arn = iam.create_user(UserName=user)["User"]["Arn"]
        k = iam.create_access_key(UserName=user)["AccessKey"]
        kw = dict(endpoint_url=url, region_name=region, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"],
                  config=Config(user_agent=ua) if ua else None)
        if kind == "decoy":
            ec2 = boto3.client("ec2", **kw)
            sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [name]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
            own = ec2.create_security_group(GroupName=user, Description="decoy")["GroupId"]
            ec2.create_tags(Resources=[own], Tags=[{"Key": "note", "Value": sg["GroupId"]}])
        elif kind == "ingress":
            ec2 = boto3.client("ec2", **kw)
            sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [name]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
            ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        elif kind == "association":
            ec2 = boto3.client("ec2", **kw)
            rt = ec2.describe_route_tables(Filters=[{"Name": "tag:reclaw:deployment", "Values": [name]}, {"Name": "tag:reclaw:component", "Values": ["public-rt"]}])["RouteTables"][0]
            ec2.disassociate_route_table(AssociationId=next(a["RouteTableAssociationId"] for a in rt["Associations"] if not a.get("Main")))
        elif kind == "dns":
            ec2 = boto3.client("ec2", **kw)
            vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:reclaw:deployment", "Values": [name]}])["Vpcs"][0]
            ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": False})
        elif kind == "policy":
            doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            boto3.client("iam", **{**kw, "region_name": "us-east-1"}).put_role_policy(RoleName=f"reclaw-{name}-instance", PolicyName="bedrock", PolicyDocument=json.dumps(doc))
        else:
            boto3.client("ssm", **kw).put_parameter(Name=f"/openclaw/{name}/model", Value="tampered.model-v1:0", Type="String", Overwrite=True)
        print(arn, k["AccessKeyId"])
        """, emulator.url, kind, name, region, uniqueName("intruder"), userAgent]).split(separator: " ")
        return (String(out[0]), out[1].trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test(arguments: [("ingress", "eu-west-3", "instance-sg.ingress"), ("policy", "eu-central-2", "role.inlinePolicies"),
                      ("parameter", "ap-south-2", "param-model.value"), ("association", "us-west-1", "public-rt.subnets"),
                      // Read on the slow cadence otherwise: the event has it read again at once.
                      ("dns", "ca-central-1", "vpc.enableDnsHostnames")])
    func aChangeByAnotherIdentityIsCorrectedWithinTheDeliveryDelayAndNamesWho(kind: String, region: String, attribute: String) async throws {
        let s = try await Setup(region: region)
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            let checksBefore = s.driftChecks
            let began = ContinuousClock.now
            let who = try await Self.tamper(kind, s.name, region: region)
            // The drift poll is an hour away: only the event can have woken the check.
            let (event, took) = try await s.corrected(since: began, within: Self.bound)
            let changed = Set((event.diff?.objectValue ?? [:]).keys)
            #expect(changed.contains(attribute), "\(changed)")
            let attribution = try #require(event.attribution?.first)
            #expect(attribution.userIdentityArn == who.arn && attribution.accessKeyId == who.key)
            #expect(attribution.actorType == "human")
            #expect(event.attributionStatus == "attributed")
            #expect(s.driftChecks == checksBefore + 1, "one event, one drift check")
            #expect(s.counter("reclaw_events_matched_total") >= 1)
            print("\(kind): corrected \(took) after the change (delivery delay \(Self.delay)s)")
        }
    }

    @Test func reclawsOwnCallsWakeNoDriftCheck() async throws {
        let s = try await Setup(region: "eu-north-1")
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            // The apply's own calls (the VPC, its subnets, groups, role, parameters, instance...)
            // reached the queue after the delay, and were recognised as reclaw's.
            let drained = await eventually(.seconds(30)) {
                let here = try? await s.queued(in: s.region), iam = try? await s.queued(in: "us-east-1")
                return here == 0 && iam == 0 && s.counter("reclaw_events_ignored_total{reason=\"self\"}") >= 15
            }
            #expect(drained, "self: \(s.counter("reclaw_events_ignored_total{reason=\"self\"}"))")
            #expect(s.driftChecks == 0, "reclaw's own changes woke drift checks")
            // A change by someone else wakes one check; the correction's own calls wake none.
            let own = s.counter("reclaw_events_ignored_total{reason=\"self\"}")
            _ = try await Self.tamper("ingress", s.name, region: s.region)
            _ = try await s.corrected(since: .now, within: Self.bound)
            // The correction's RevokeSecurityGroupIngress arrives too, and is reclaw's own.
            let settled = await eventually(.seconds(60)) {
                let left = try? await s.queued(in: s.region)
                return left == 0 && s.counter("reclaw_events_ignored_total{reason=\"self\"}") > own
            }
            #expect(settled)
            #expect(s.driftChecks == 1)
        }
    }

    @Test func aQueueMadeAfterTheDaemonStartedIsReadOnceItExists() async throws {
        let s = try await Setup(region: "ap-southeast-2", makeQueue: false)
        try await s.h.running(with: [s.listener]) {
            #expect(await eventually { s.h.status(s.name)?.condition(.ready)?.status == .true })
            try await Task.sleep(for: .seconds(2))
            #expect(s.listener.regions.isEmpty, "it reads a queue that does not exist")
            try await s.makeQueues()
            #expect(await eventually(.seconds(30)) { s.listener.regions == [s.region, "us-east-1"] })
            let who = try await Self.tamper("ingress", s.name, region: s.region)
            let (event, _) = try await s.corrected(since: .now, within: Self.bound)
            #expect(event.attribution?.first?.userIdentityArn == who.arn)
        }
    }

    @Test func aMessageStaysHiddenWhileItsCheckWaitsAndIsHandledOnce() async throws {
        let s = try await Setup(region: "ap-northeast-2")
        // A ten-second visibility timeout, and a drift check that takes more than twice as long: the
        // listener must keep extending it, or the message comes back and is handled twice. (It
        // extends at half the timeout: two, then three seconds were too short a margin beside the
        // other daemon suites on two cores.)
        let sqs = SQSClient(client: s.h.client, region: s.region)
        try await sqs.setAttributes(try #require(try await sqs.queueURL(s.queue)), ["VisibilityTimeout": "10"])
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            let slow = try await Self.emulator.injectDelay(service: "ec2", region: s.region, userAgent: "reclaw/", operation: "DescribeSecurityGroups",
                                                           milliseconds: 25000, count: 1)
            let matched = s.counter("reclaw_events_matched_total")
            _ = try await Self.tamper("ingress", s.name, region: s.region)
            _ = try await s.corrected(since: .now, within: Self.bound)
            try await Self.emulator.removeFault(slow)
            let settled = await eventually(.seconds(30)) { (try? await s.queued(in: s.region)) == 0 }
            #expect(settled)
            #expect(s.counter("reclaw_events_matched_total") == matched + 1, "the message came back while its check waited")
            #expect(s.driftChecks == 1)
        }
    }

    @Test func aLostEventIsCaughtByTheNextPoll() async throws {
        let s = try await Setup(region: "sa-east-1", driftInterval: .seconds(8))
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            // The rule loses its target: the change's event never reaches the queue.
            let events = EventBridgeClient(client: s.h.client, region: s.region)
            try await events.removeTargets(rule: s.queue, ids: ["reclaw-queue"])
            let matched = s.counter("reclaw_events_matched_total")
            let who = try await Self.tamper("ingress", s.name, region: s.region)
            let (event, _) = try await s.corrected(since: .now, within: .seconds(60))
            #expect(s.counter("reclaw_events_matched_total") == matched, "an event arrived after all")
            // Attributed from CloudTrail's lookup, the fallback.
            #expect(event.attribution?.first?.userIdentityArn == who.arn)
        }
    }

    @Test func aMessageForAnUnknownResourceOrNotAnEventIsDeletedAtOnce() async throws {
        let s = try await Setup(region: "me-central-1")
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            let ignored = s.counter("reclaw_events_ignored_total{reason=\"unknown-resource\"}")
            _ = try await Command.check(["python3", "-c", """
            import boto3, sys
            url, region = sys.argv[1:3]
            kw = dict(endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
            boto3.client("ec2", **kw).create_vpc(CidrBlock="10.9.0.0/16")
            """, Self.emulator.url, s.region])
            let sqs = SQSClient(client: s.h.client, region: s.region)
            let url = try #require(try await sqs.queueURL(s.queue))
            // Only EventBridge may send in AWS; the emulator does not enforce queue policies.
            _ = try await Command.check(["python3", "-c", """
            import boto3, sys
            url, region, queue = sys.argv[1:4]
            boto3.client("sqs", endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x").send_message(QueueUrl=queue, MessageBody="{not json")
            """, Self.emulator.url, s.region, url])
            let disposed = await eventually(.seconds(Self.delay + 20)) {
                let left = try? await s.queued(in: s.region)
                return s.counter("reclaw_events_ignored_total{reason=\"unknown-resource\"}") > ignored
                    && s.counter("reclaw_events_ignored_total{reason=\"malformed\"}") == 1 && left == 0
            }
            #expect(disposed)
            #expect(s.driftChecks == 0)
        }
    }

    @Test func aChangeSentWithReclawsUserAgentIsCorrectedAndAttributedToItsSender() async throws {
        let s = try await Setup(region: "eu-south-1")
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            let who = try await Self.tamper("ingress", s.name, region: s.region, userAgent: "reclaw/0.1.0 (deployment/\(s.name); plan/forged) replica/x")
            // The drift poll is an hour away: the event must not be taken for reclaw's own.
            let (event, _) = try await s.corrected(since: .now, within: Self.bound)
            #expect(event.attributionStatus == "attributed")
            #expect(event.attribution?.map(\.userIdentityArn) == [who.arn])
        }
    }

    @Test func aCreateTagsThatOnlyMentionsTheGroupDoesNotTakeTheBlameForItsIngress() async throws {
        let s = try await Setup(region: "us-east-2")
        try await s.h.running(with: [s.listener]) {
            try await s.ready()
            let checks = s.driftChecks
            let decoy = try await Self.tamper("decoy", s.name, region: s.region)
            // Its event names the group, so it wakes a check: nothing has drifted yet.
            #expect(await eventually(Self.bound) { s.driftChecks > checks }, "the decoy's event woke no check")
            let who = try await Self.tamper("ingress", s.name, region: s.region)
            let (event, _) = try await s.corrected(since: .now, within: Self.bound)
            let blamed = event.attribution?.map(\.userIdentityArn) ?? []
            #expect(blamed == [who.arn], "blamed \(blamed); the decoy was \(decoy.arn)")
            #expect(event.attribution?.first?.eventName == "AuthorizeSecurityGroupIngress")
        }
    }
}
