import Foundation
import Logging
import ReclawAWS
import ReclawAudit
import ReclawTime
import ServiceLifecycle
import Synchronization

/// Wakes drift checks from CloudTrail's events: long-polls the SQS queue an EventBridge rule feeds
/// in every region the source's deployments use (and the partition's home region, where IAM's
/// events arrive), maps each event to the deployment whose resource it touched, and hands it to
/// the daemon with who made the change. A message is deleted only once the drift check it woke
/// has run, so a crash replays it. Polling stays the guarantee: a lost event only waits for the
/// next drift interval.
public final class EventListener: Service, Sendable {
    public struct Settings: Sendable {
        /// The queue's name, the same in every region.
        public var queue: String
        /// How long one ReceiveMessage waits for a message (SQS allows 0 to 20 seconds).
        public var waitSeconds: Int
        /// How often the source's regions are looked at for new ones, and, with replicas, the
        /// shortest time between two reads of the other replicas' statuses (see `SharedIndexRefresh`).
        public var regionRefresh: Duration
        /// How long a queue that cannot be read is left before the next try.
        public var retryDelay: Duration
        /// A message about a deployment another replica holds is handed back to the queue at most
        /// this many times, then dropped (that replica's poll catches the drift).
        public var maxHandBacks: Int
        /// The longest a message is kept hidden while its drift check waits; then it is let go,
        /// and comes back.
        public var maxHold: Duration
        /// Messages handled but not yet deleted (or handed back) at most: past this, no more are
        /// received until deletes catch up, so a burst of events waits in the queue, not here.
        public var maxUndisposed: Int
        /// Deletes (and hand-backs) sent at once.
        public var disposeConcurrency: Int

        public init(queue: String, waitSeconds: Int = 20, regionRefresh: Duration = .seconds(30), retryDelay: Duration = .seconds(30),
                    maxHandBacks: Int = 5, maxHold: Duration = .seconds(900), maxUndisposed: Int = 100, disposeConcurrency: Int = 8) {
            self.queue = queue
            self.waitSeconds = min(max(waitSeconds, 0), 20)
            self.regionRefresh = regionRefresh
            self.retryDelay = retryDelay
            self.maxHandBacks = maxHandBacks
            self.maxHold = maxHold
            self.maxUndisposed = max(maxUndisposed, 1)
            self.disposeConcurrency = max(disposeConcurrency, 1)
        }
    }

    let daemon: any ChangeEventTarget
    let client: AWSClient
    let settings: Settings
    let clock: any TimeSource
    let logger: Logger
    /// The ids reclaw's own calls made, when the AWS client reports them here too.
    let created: CreatedResources?
    /// Regions whose queue is being read now, for tests and the log.
    private let listening = Mutex<Set<String>>([])
    /// When the other replicas' statuses are read again.
    private let sharedIndex: SharedIndexGate

    /// `client` should record its calls in the metrics only: reading a queue changes nothing in AWS.
    /// `created` is an observer of the daemon's own AWS client.
    public init(daemon: any ChangeEventTarget, client: AWSClient, settings: Settings, created: CreatedResources? = nil, clock: any TimeSource = SystemClock(),
                logger: Logger) {
        self.daemon = daemon
        self.created = created
        self.client = client
        self.settings = settings
        self.clock = clock
        self.logger = logger
        sharedIndex = SharedIndexGate(interval: settings.regionRefresh)
    }

    var metrics: any EventCounters { daemon.eventCounters }

    /// The regions whose queue this listener reads now.
    public var regions: Set<String> { listening.withLock { $0 } }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            // Until the source is read no deployment is known: events wait in the queue.
            while !self.daemon.hasReadSource {
                do { try await self.clock.sleep(until: self.clock.now() + .milliseconds(200)) } catch { return }
            }
            self.daemon.indexStoredStatuses()
            // The other replicas' statuses once now; later only for an event nothing maps.
            if self.sharedIndex.begin(now: self.clock.now()) { await self.daemon.indexSharedStatuses() }
            await withTaskGroup(of: Void.self) { group in
                var started: Set<String> = []
                while !Task.isCancelled {
                    for region in self.daemon.eventRegions.subtracting(started).sorted() {
                        started.insert(region)
                        group.addTask { await self.listen(region: region) }
                    }
                    do { try await self.clock.sleep(until: self.clock.now() + self.settings.regionRefresh) } catch { break }
                }
                group.cancelAll()
            }
        }
    }

    // MARK: one region

    /// Reads one region's queue until cancelled, finding it again whenever it cannot be read.
    func listen(region: String) async {
        let sqs = SQSClient(client: client, region: region)
        var reported: String?
        while !Task.isCancelled {
            let queue: QueueHandle
            do {
                guard let url = try await sqs.queueURL(settings.queue) else {
                    report(&reported, region: region, code: "QueueDoesNotExist",
                           message: "there is no queue \(settings.queue) in \(region): make it with `reclaw events setup --queue \(settings.queue) --region \(region)`")
                    if await pause() { return }
                    continue
                }
                let attributes = try await sqs.attributes(url, names: ["VisibilityTimeout"])
                queue = QueueHandle(url: url, visibility: max(Int(attributes["VisibilityTimeout"] ?? "") ?? 30, 2))
            } catch {
                if Task.isCancelled || error.isCancelled { return }
                report(&reported, region: region, code: error.code, message: "the queue \(settings.queue) in \(region) cannot be read: \(error)")
                if await pause() { return }
                continue
            }
            logger.info("reading CloudTrail's events\(reported == nil ? "" : " again")", metadata: [
                "aws.region": "\(region)", "queue": "\(settings.queue)", "visibility_timeout": "\(queue.visibility)s"])
            reported = nil
            listening.withLock { _ = $0.insert(region) }
            let failure = await read(queue, sqs: sqs, region: region)
            listening.withLock { _ = $0.remove(region) }
            guard let failure else { return }
            report(&reported, region: region, code: failure.code, message: "the queue \(settings.queue) in \(region) cannot be read: \(failure)")
            if await pause() { return }
        }
    }

    /// Receives, handles and deletes messages until cancelled (nil) or the queue fails (the error).
    private func read(_ queue: QueueHandle, sqs: SQSClient, region: String) async -> AWSError? {
        let (done, finished) = AsyncStream.makeStream(of: Disposal.self, bufferingPolicy: .unbounded)
        let disposals = Disposals(continuation: finished)
        let held = HeldMessages()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.dispose(done, queue: queue, sqs: sqs, held: held, region: region, backlog: disposals.backlog) }
            group.addTask { await self.keepHidden(queue: queue, sqs: sqs, held: held, region: region) }
            var failure: AWSError?
            while !Task.isCancelled {
                // Received faster than they are deleted, messages would pile up here, and come back
                // from the queue to be received again when their visibility timeout ends.
                while disposals.backlog.count >= settings.maxUndisposed && !Task.isCancelled {
                    do { try await clock.sleep(until: clock.now() + .milliseconds(50)) } catch { break }
                }
                let messages: [SQSMessage]
                do { messages = try await sqs.receive(queue.url, waitSeconds: settings.waitSeconds) } catch let error as AWSError {
                    if !error.isCancelled { failure = error }
                    break
                } catch { break }
                for message in messages {
                    await handle(message, region: region, held: held, disposal: disposals)
                }
            }
            finished.finish()
            group.cancelAll()
            return failure
        }
    }

    /// Handles one message: hands its event to the daemon, or disposes of it at once.
    func handle(_ message: SQSMessage, region: String, held: HeldMessages, disposal: Disposals) async {
        metrics.eventReceived()
        let event: APICallEvent
        do { event = try APICallEvent.parse(message.body) } catch {
            // Logged once and deleted: a message reclaw cannot read would otherwise come back forever.
            logger.warning("deleting a queue message that is not a CloudTrail API call event",
                           metadata: ["aws.region": "\(region)", "message.id": "\(LoggedText.bounded(message.messageId))",
                                      "error": "\(LoggedText.bounded(error.description))"])
            metrics.eventIgnored(reason: IgnoreReason.malformed.rawValue)
            disposal.yield(.delete(message))
            return
        }
        if let time = event.eventTime { metrics.eventLag(seconds: max(0, clock.date().timeIntervalSince(time))) }
        let now = clock.date()
        func triaged() -> EventTriage.Outcome {
            EventTriage.triage(event, madeRequest: { self.daemon.auditLog?.madeRequest($0, now: now) ?? false },
                               owner: { self.daemon.deployment(owning: $0) ?? self.created?.deployment(owning: $0) },
                               routing: { self.daemon.routing($0) })
        }
        var triage = triaged()
        // A resource nothing maps may be one another replica made since the statuses were read.
        if case .ignore(.unknownResource) = triage, sharedIndex.begin(now: clock.now()), await daemon.indexSharedStatuses() {
            triage = triaged()
        }
        var metadata: Logger.Metadata = ["aws.region": "\(region)", "event.name": "\(LoggedText.bounded(event.eventName))",
                                         "event.id": "\(LoggedText.bounded(event.eventID))"]
        switch triage {
        case .ignore(let reason):
            logger.debug("ignoring a CloudTrail event: \(reason.rawValue)", metadata: metadata)
            metrics.eventIgnored(reason: reason.rawValue)
            disposal.yield(.delete(message))
        case .elsewhere(let deployments):
            if message.receiveCount <= settings.maxHandBacks {
                logger.debug("handing a CloudTrail event back for the replica that holds \(deployments.joined(separator: ", "))", metadata: metadata)
                disposal.yield(.handBack(message))
            } else {
                metrics.eventIgnored(reason: IgnoreReason.notHeld.rawValue)
                disposal.yield(.delete(message))
            }
        case .notice(let resources):
            metrics.eventMatched()
            let attribution = event.attribution
            for deployment in resources.keys { daemon.index(eventNames: event.names, deployment: deployment) }
            let notices = resources.sorted { $0.key < $1.key }.map { deployment, names in
                ChangeNotice(deployment: deployment, resources: self.resources(named: names), targets: self.resources(named: event.targets),
                             attribution: attribution, receivedAt: now)
            }
            metadata["deployment"] = "\(notices.map(\.deployment).joined(separator: ","))"
            metadata["user.arn"] = "\(LoggedText.bounded(attribution.userIdentityArn ?? "unknown"))"
            logger.info("CloudTrail reports a change: checking for drift now", metadata: metadata)
            held.hold(message, now: clock.now())
            await daemon.notice(notices) { disposal.yield(.delete(message)) }
        }
    }

    /// What the names stand for, as the daemon's observations and reclaw's own calls tell.
    func resources(named names: [String]) -> [String] {
        Array(Set(daemon.resources(named: names)).union(names.flatMap { created?.owners(of: $0) ?? [] })).sorted()
    }

    /// Deletes messages once handled, and hands back those meant for another replica,
    /// `disposeConcurrency` at once.
    private func dispose(_ stream: AsyncStream<Disposal>, queue: QueueHandle, sqs: SQSClient, held: HeldMessages, region: String,
                         backlog: DisposalBacklog) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await item in stream {
                if running >= settings.disposeConcurrency {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask {
                    await self.dispose(item, queue: queue, sqs: sqs, held: held, region: region)
                    backlog.done()
                }
            }
        }
    }

    private func dispose(_ item: Disposal, queue: QueueHandle, sqs: SQSClient, held: HeldMessages, region: String) async {
        do {
            switch item {
            case .delete(let m):
                held.release(m)
                try await sqs.delete(queue.url, receiptHandle: m.receiptHandle)
            case .handBack(let m):
                try await sqs.changeVisibility(queue.url, receiptHandle: m.receiptHandle, seconds: 0)
            }
        } catch {
            // The message comes back after its visibility timeout and is handled again: harmless.
            if Task.isCancelled || error.isCancelled { return }
            logger.warning("a queue message could not be deleted; it will be handled again", metadata: [
                "aws.region": "\(region)", "aws.error_code": "\(error.code)", "aws.request_id": "\(error.requestID ?? "")"])
        }
    }

    /// Keeps the messages whose drift checks have not run yet hidden from other receivers, for at
    /// most `maxHold`: past that, a message is let go and comes back.
    private func keepHidden(queue: QueueHandle, sqs: SQSClient, held: HeldMessages, region: String) async {
        let period = Duration.seconds(max(queue.visibility / 3, 1))
        while !Task.isCancelled {
            do { try await clock.sleep(until: clock.now() + period) } catch { return }
            let now = clock.now()
            for m in held.due(now: now, visibility: .seconds(queue.visibility), maxHold: settings.maxHold) {
                do {
                    try await sqs.changeVisibility(queue.url, receiptHandle: m.receiptHandle, seconds: queue.visibility)
                    held.extended(m, now: now)
                } catch {
                    logger.debug("a queue message's visibility could not be extended", metadata: ["aws.region": "\(region)", "aws.error_code": "\(error.code)"])
                }
            }
        }
    }

    /// Returns true when cancelled.
    private func pause() async -> Bool {
        do { try await clock.sleep(until: clock.now() + settings.retryDelay) } catch { return true }
        return Task.isCancelled
    }

    /// Logs a queue failure once per error code; polling still checks drift meanwhile.
    private func report(_ reported: inout String?, region: String, code: String, message: String) {
        guard reported != code else { return }
        reported = code
        logger.error("\(LoggedText.bounded(message, limit: 1024)); drift is still checked every drift interval", metadata: [
            "aws.region": "\(region)", "queue": "\(settings.queue)", "aws.error_code": "\(LoggedText.bounded(code))"])
    }
}
