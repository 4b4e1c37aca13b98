import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// A resource reclaw recorded, to be read by its own id or name.
public struct RecordedResource: Sendable, Hashable {
    public var key: ComponentKey
    public var kind: ResourceKind
    public var id: String

    public init(key: ComponentKey, kind: ResourceKind, id: String) {
        self.key = key
        self.kind = kind
        self.id = id
    }
}

extension AWSObserver {
    /// Reads recorded resources that a listing did not return, by their own ids (EC2's describes
    /// by id, SSM's GetParameters by name): a listing by tag pages while others write, and the
    /// tagging API is an index that lags, so its silence is no proof a resource is gone. Returns
    /// those that exist, normalized as the listing would have; the others are missing. Roles come
    /// from a complete listing; an instance profile that holds no role is missing from it, and is
    /// looked for in ListInstanceProfiles (IAM's own store).
    ///
    /// An EC2 resource keeps its identity by id even without its tags (it is marked `recorded`,
    /// so its tags can be put back); a parameter is named, and a name can be taken by someone
    /// else, so one that lost reclaw's tag is not taken for reclaw's.
    public func read(_ recorded: [RecordedResource], deployment: String) async throws(AWSError) -> [ObservedResource] {
        let ec2 = EC2Client(client: client, region: region, context: context)
        let ssm = SSMClient(client: client, region: region, context: context)
        let byKind = Dictionary(grouping: recorded, by: \.kind)
        func ids(_ kind: ResourceKind) -> [String] { byKind[kind]?.map(\.id) ?? [] }
        func key(_ kind: ResourceKind, _ id: String) -> ComponentKey? { byKind[kind]?.first { $0.id == id }?.key }
        var found: [ObservedResource] = []
        func keep(_ r: ObservedResource?) {
            guard var r else { return }
            r.details["recorded"] = .bool(true)
            found.append(r)
        }
        if !ids(.vpc).isEmpty {
            let vpcs = try await ec2.vpcs([("vpc-id", ids(.vpc))])
            let (dns, _) = await dnsAttributes(vpcs.map { ($0.id, deployment) }, ec2)
            for v in vpcs { keep(key(.vpc, v.id).map { Self.vpc(v, $0, dns: dns[v.id]) }) }
        }
        if !ids(.subnet).isEmpty {
            let subnets = try await ec2.subnets([("subnet-id", ids(.subnet))])
            let tables = try await routeTables(ofVpcs: Array(Set(subnets.map(\.vpcId))), ec2)
            for s in subnets { keep(key(.subnet, s.id).map { Self.subnet(s, $0, served: Self.effectiveTable(of: s, in: tables)) }) }
        }
        if !ids(.internetGateway).isEmpty {
            for g in try await ec2.internetGateways([("internet-gateway-id", ids(.internetGateway))]) { keep(key(.internetGateway, g.id).map { Self.gateway(g, $0) }) }
        }
        if !ids(.routeTable).isEmpty {
            for t in try await ec2.routeTables([("route-table-id", ids(.routeTable))]) { keep(key(.routeTable, t.id).map { Self.routeTable(t, $0) }) }
        }
        if !ids(.securityGroup).isEmpty {
            for g in try await ec2.securityGroups([("group-id", ids(.securityGroup))]) { keep(key(.securityGroup, g.id).map { Self.securityGroup(g, $0) }) }
        }
        if !ids(.vpcEndpoint).isEmpty {
            for e in try await ec2.vpcEndpoints([("vpc-endpoint-id", ids(.vpcEndpoint))]) where !Self.goneEndpointStates.contains(e.state) {
                keep(key(.vpcEndpoint, e.id).map { Self.endpoint(e, $0) })
            }
        }
        if !ids(.instance).isEmpty {
            let instances = try await ec2.instances([("instance-id", ids(.instance)), ("instance-state-name", Self.liveInstanceStates)])
            let roots = instances.compactMap(Self.rootVolumeID)
            let volumes = roots.isEmpty ? [] : try await ec2.volumes([("volume-id", roots)])
            for i in instances {
                let root = Self.rootVolumeID(i).flatMap { id in volumes.first { $0.id == id } }
                keep(key(.instance, i.id).map { Self.instance(i, $0, volume: root, latestImage: nil) })
            }
        }
        if !ids(.instanceProfile).isEmpty {
            let iam = IAMClient(client: client, region: region, context: context)
            for p in try await iam.instanceProfiles(pathPrefix: DesiredGraphBuilder.iamPath) {
                guard let k = key(.instanceProfile, p.name) else { continue }
                var tags = p.tags ?? [:]
                if p.tags == nil { tags = try await iam.instanceProfileTags(p.name) }
                guard tags[OwnershipTags.deployment] == deployment else { continue }
                found.append(ObservedResource(key: k, kind: .instanceProfile, id: p.name,
                                              typed: [.path: .string(p.path), .roles: Normalize.strings(p.roles)],
                                              tags: tags, details: ["arn": .string(p.arn)]))
            }
        }
        if !ids(.parameter).isEmpty {
            for p in try await ssm.parameters(ids(.parameter)) {
                guard let k = key(.parameter, p.name) else { continue }
                let tags = try await ssm.tags(parameter: p.name)
                guard tags[OwnershipTags.deployment] == deployment else { continue }
                var attributes: [AttributeKey: JSONValue] = [.type: .string(p.type)]
                if let v = p.value { attributes[.value] = .string(v) }
                found.append(ObservedResource(key: k, kind: .parameter, id: p.name, typed: attributes, tags: tags,
                                              details: p.arn.map { ["arn": .string($0)] } ?? [:]))
            }
        }
        return found
    }

    static let goneEndpointStates: Set<String> = ["deleted", "deleting", "failed", "rejected"]
    static let liveInstanceStates = ["pending", "running", "stopping", "stopped"]
}
