import Foundation
import Logging
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawState

/// Carries out plan steps against AWS: create (tags at creation, idempotency tokens from the
/// journal), update in place, delete. It refuses to touch anything without reclaw's tag.
public struct AWSDriver: ActionDriver {
    public let client: AWSClient
    public let journal: CreateJournal?
    public let waiter: Waiter
    public let logger: Logger
    /// Records a created resource's id before its journal entry closes; a failure fails the step
    /// and leaves the entry open, so the next run adopts the resource instead of making another.
    public let recordCreated: (@Sendable (_ key: ComponentKey, _ id: String) throws -> Void)?
    /// Where what a step set of a slow attribute (a VPC's DNS attributes) is recorded, so the next
    /// observation takes it from there instead of reading back what was just set.
    public let slowAttributes: SlowAttributeCache?
    /// Where a parameter value a step wrote is recorded with the version AWS gave it, so the next
    /// observation need not read it.
    public let parameterReadings: ParameterReadings?

    public init(client: AWSClient, journal: CreateJournal?, waiter: Waiter = Waiter(), logger: Logger,
                recordCreated: (@Sendable (_ key: ComponentKey, _ id: String) throws -> Void)? = nil,
                slowAttributes: SlowAttributeCache? = nil, parameterReadings: ParameterReadings? = nil) {
        self.parameterReadings = parameterReadings
        self.client = client
        self.journal = journal
        self.waiter = waiter
        self.logger = logger
        self.recordCreated = recordCreated
        self.slowAttributes = slowAttributes
    }

    func callContext(_ c: StepContext) -> AWSCallContext {
        AWSCallContext(deployment: c.deployment, planID: c.planID, revision: c.revision, component: c.key)
    }

    func ec2(_ c: StepContext) -> EC2Client { EC2Client(client: client, region: c.region, context: callContext(c)) }
    func iam(_ c: StepContext) -> IAMClient { IAMClient(client: client, region: c.region, context: callContext(c)) }
    func ssm(_ c: StepContext) -> SSMClient { SSMClient(client: client, region: c.region, context: callContext(c)) }

    /// Every create is journaled: if reclaw stops while it is in flight, the next run knows to look
    /// for what it made before making another.
    /// The journal and the record are durable files, written off the threads that run tasks
    /// (`BlockingIO`) so the other steps go on while this one waits for the disk.
    public func create(_ component: DesiredComponent, context: StepContext) async throws -> String {
        let key = component.key
        if let journal {
            _ = try await BlockingIO.run { () throws(StateError) in
                try journal.begin(deployment: context.deployment, component: key, planID: context.planID)
            }
        }
        let id = try await dispatchCreate(component, context: context)
        if let recordCreated { try await BlockingIO.run { () throws in try recordCreated(key, id) } }
        if let journal {
            try await BlockingIO.run { () throws(StateError) in try journal.end(deployment: context.deployment, component: key) }
        }
        return id
    }

    private func dispatchCreate(_ component: DesiredComponent, context: StepContext) async throws -> String {
        switch component.kind {
        case .vpc: return try await createVpc(component, context)
        case .internetGateway: return try await createGateway(component, context)
        case .subnet: return try await createSubnet(component, context)
        case .routeTable: return try await createRouteTable(component, context)
        case .securityGroup: return try await createSecurityGroup(component, context)
        case .vpcEndpoint: return try await createEndpoint(component, context)
        case .role: return try await createRole(component, context)
        case .instanceProfile: return try await createInstanceProfile(component, context)
        case .parameter: return try await createParameter(component, context)
        case .instance: return try await createInstance(component, context)
        default: throw unknownKind(component.kind, context)
        }
    }

    public func update(_ component: DesiredComponent, current: ObservedResource, changes: [AttributeChange], context: StepContext) async throws {
        try checkOwnership(current, context)
        let changed = Set(changes.map(\.attribute))
        switch component.kind {
        case .vpc: try await updateVpc(component, current, changed, context)
        case .internetGateway: try await updateGateway(component, current, changed, context)
        case .subnet: try await updateSubnet(component, current, changed, context)
        case .routeTable: try await updateRouteTable(component, current, changed, context)
        case .securityGroup: try await updateSecurityGroup(component, current, changed, context)
        case .vpcEndpoint: try await updateEndpoint(component, current, changed, context)
        case .role: try await updateRole(component, current, changed, context)
        case .instanceProfile: try await updateInstanceProfile(component, current, changed, context)
        case .parameter: try await updateParameter(component, current, changed, context)
        case .instance: try await updateInstance(component, current, changed, context)
        default: throw unknownKind(component.kind, context)
        }
        if changes.contains(where: { $0.attribute.hasPrefix("tags.") }) {
            try await updateTags(component, current, context)
        }
    }

    public func delete(_ resource: ObservedResource, context: StepContext) async throws {
        try checkOwnership(resource, context)
        switch resource.kind {
        case .vpc: try await deleteVpc(resource, context)
        case .internetGateway: try await deleteGateway(resource, context)
        case .subnet: try await deleteWhenFree(resource, context, action: "DeleteSubnet", parameter: "SubnetId")
        case .routeTable: try await deleteRouteTable(resource, context)
        case .securityGroup: try await deleteWhenFree(resource, context, action: "DeleteSecurityGroup", parameter: "GroupId")
        case .vpcEndpoint: try await deleteEndpoint(resource, context)
        case .role: try await deleteRole(resource, context)
        case .instanceProfile: try await deleteInstanceProfile(resource, context)
        case .parameter: try await ssm(context).deleteParameters([resource.id])
        case .instance: try await deleteInstance(resource, context)
        default: throw unknownKind(resource.kind, context)
        }
    }

    /// A kind the catalog does not declare: nothing to call.
    func unknownKind(_ kind: ResourceKind, _ context: StepContext) -> AWSError {
        AWSError(kind: .service, code: "UnknownKind", message: "reclaw has no driver for resources of kind \(kind)", service: "reclaw",
                 operation: "dispatch", region: context.region)
    }

    /// reclaw never modifies or deletes a resource that lacks its deployment tag, unless it is the
    /// very resource reclaw recorded (read by its id: its tags were taken off, and go back on).
    func checkOwnership(_ resource: ObservedResource, _ context: StepContext) throws {
        guard resource.tags[OwnershipTags.deployment] == context.deployment || resource.details["recorded"] == .bool(true) else {
            throw AWSError(kind: .service, code: "NotOwned", message: "\(resource.id) is not tagged \(OwnershipTags.deployment)=\(context.deployment); reclaw does not touch it",
                           service: "reclaw", operation: "ownership", region: context.region)
        }
    }

    /// Tags to add and remove so a resource carries exactly its desired tags (AWS's own and
    /// reclaw's bookkeeping tags left alone).
    func tagDelta(_ component: DesiredComponent, _ current: ObservedResource) -> (set: [String: String], remove: [String]) {
        let have = Normalize.comparableTags(current.tags)
        let set = component.tags.filter { have[$0.key] != $0.value }
        let remove = have.keys.filter { component.tags[$0] == nil }.sorted()
        return (set, remove)
    }

    func updateTags(_ component: DesiredComponent, _ current: ObservedResource, _ c: StepContext) async throws {
        let (set, remove) = tagDelta(component, current)
        switch component.kind {
        case .role:
            try await iam(c).tagRole(current.id, set)
            try await iam(c).untagRole(current.id, keys: remove)
        case .instanceProfile:
            try await iam(c).tagInstanceProfile(current.id, set)
            try await iam(c).untagInstanceProfile(current.id, keys: remove)
        case .parameter:
            try await ssm(c).addTags(parameter: current.id, set)
            try await ssm(c).removeTags(parameter: current.id, keys: remove)
        default:
            try await ec2(c).createTags([current.id], set)
            try await ec2(c).deleteTags([current.id], keys: remove)
        }
    }

    /// Deletes a resource, retrying while AWS reports that something still uses it (network
    /// interfaces of endpoints and instances take a while to go).
    func deleteWhenFree(_ resource: ObservedResource, _ c: StepContext, action: String, parameter: String) async throws {
        try await waiter.retrying("\(resource.id) to be free of what still uses it (\(action))", on: ["DependencyViolation", "InvalidGroup.InUse", "ResourceInUse"],
                                  deadline: waiter.deadlines.dependencyRelease) { () async throws(AWSError) in
            _ = try await absent { () async throws(AWSError) in try await ec2(c).delete(action, parameter, resource.id) }
        }
    }
}

/// Runs `body`; true when AWS said the resource is not there (which, for a deletion, is done).
func absent(_ body: () async throws(AWSError) -> Void) async throws(AWSError) -> Bool {
    do {
        try await body()
        return false
    } catch {
        if error.isNotFound { return true }
        throw error
    }
}

extension DesiredComponent {
    func string(_ key: AttributeKey) -> String? { self[key]?.value.stringValue }
    func bool(_ key: AttributeKey) -> Bool? { self[key]?.value.boolValue }
    func int(_ key: AttributeKey) -> Int? { self[key]?.value.intValue }
    func strings(_ key: AttributeKey) -> [String] { self[key]?.value.arrayValue?.compactMap(\.stringValue) ?? [] }
}

extension ObservedResource {
    func strings(_ key: AttributeKey) -> [String] { self[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

extension AWSDriver {
    /// The resource carries the tags this deployment's create of this component gives it: when a
    /// create was retried after its answer was lost, the resource its first attempt made.
    static func madeBy(_ c: StepContext, _ d: DesiredComponent, tags: [String: String]) -> Bool {
        tags[OwnershipTags.deployment] == c.deployment && tags[OwnershipTags.component] == d.key
    }
}
