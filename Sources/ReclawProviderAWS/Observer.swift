import Foundation
import Logging
import ReclawAWS
import ReclawEngine
import ReclawJSON

/// Reads every reclaw-owned resource of a region in one batch: one tag-filtered Describe call per
/// EC2 resource type covers every deployment; IAM comes from GetAccountAuthorizationDetails and
/// ListInstanceProfiles (pages, not per-resource calls); SSM parameters from one tag query of the
/// Resource Groups Tagging API and GetParameters ten at a time. Nothing here mutates.
///
/// Per-resource calls remain only where AWS has nothing better: GetParameter for each distinct
/// `ssm:` image parameter (to report a newer AMI), and ListInstanceProfileTags for an instance
/// profile no reclaw role holds (left behind by an interrupted create).
public struct AWSObserver: Sendable {
    public let client: AWSClient
    public let region: String
    public let context: AWSCallContext

    public init(client: AWSClient, region: String, context: AWSCallContext = AWSCallContext()) {
        self.client = client
        self.region = region
        self.context = context
    }

    static let ownerFilter: EC2Client.Filter = ("tag-key", [OwnershipTags.deployment])

    /// Everything owned by reclaw in the region (and IAM), grouped by deployment name.
    public func observe() async throws(AWSError) -> [String: ObservedDeployment] {
        let ec2 = EC2Client(client: client, region: region, context: context)
        let iam = IAMClient(client: client, region: region, context: context)
        let ssm = SSMClient(client: client, region: region, context: context)
        let tagging = TaggingClient(client: client, region: region, context: context)
        do {
            async let vpcs = ec2.vpcs([Self.ownerFilter])
            async let subnets = ec2.subnets([Self.ownerFilter])
            async let gateways = ec2.internetGateways([Self.ownerFilter])
            async let tables = ec2.routeTables([Self.ownerFilter])
            async let groups = ec2.securityGroups([Self.ownerFilter])
            async let endpoints = ec2.vpcEndpoints([Self.ownerFilter])
            async let instances = ec2.instances([Self.ownerFilter, ("instance-state-name", ["pending", "running", "stopping", "stopped"])])
            async let volumes = ec2.volumes([Self.ownerFilter])
            async let roles = iam.roles(pathPrefix: DesiredGraphBuilder.iamPath)
            async let profiles = iam.instanceProfiles(pathPrefix: DesiredGraphBuilder.iamPath)
            async let parameters = tagging.resources(type: "ssm:parameter", tagKey: OwnershipTags.deployment)

            var out: [String: ObservedDeployment] = [:]
            func add(_ r: ObservedResource, deployment: String) {
                out[deployment, default: ObservedDeployment(deployment: deployment)].add(r)
            }
            func owner(_ tags: [String: String]) -> (String, ComponentKey, ResourceKind)? {
                guard let d = tags[OwnershipTags.deployment], let k = tags[OwnershipTags.component], let kind = Components.kind(of: k) else { return nil }
                return (d, k, kind)
            }
            for v in try await vpcs { if let (d, k, kind) = owner(v.tags), kind == .vpc { add(Self.vpc(v, k), deployment: d) } }
            for s in try await subnets { if let (d, k, kind) = owner(s.tags), kind == .subnet { add(Self.subnet(s, k), deployment: d) } }
            for g in try await gateways { if let (d, k, kind) = owner(g.tags), kind == .internetGateway { add(Self.gateway(g, k), deployment: d) } }
            for t in try await tables { if let (d, k, kind) = owner(t.tags), kind == .routeTable { add(Self.routeTable(t, k), deployment: d) } }
            for g in try await groups { if let (d, k, kind) = owner(g.tags), kind == .securityGroup { add(Self.securityGroup(g, k), deployment: d) } }
            for e in try await endpoints where !["deleted", "deleting", "failed", "rejected"].contains(e.state) {
                if let (d, k, kind) = owner(e.tags), kind == .vpcEndpoint { add(Self.endpoint(e, k), deployment: d) }
            }
            let volumesByInstance = Dictionary(try await volumes.compactMap { v in v.instanceId.map { ($0, v) } }, uniquingKeysWith: { a, _ in a })
            var imageParameters: [String: String] = [:]
            let running = try await instances
            for parameter in Set(running.compactMap { $0.tags[DesiredGraphBuilder.imageTag] }.filter { $0.hasPrefix("ssm:") }) {
                imageParameters[parameter] = try? await ssm.parameterValue(String(parameter.dropFirst(4)))
            }
            // Keep the live instance first, so a duplicate is the one deleted.
            for i in running.sorted(by: { Self.instanceRank($0) < Self.instanceRank($1) }) {
                if let (d, k, kind) = owner(i.tags), kind == .instance {
                    add(Self.instance(i, k, volume: volumesByInstance[i.id], latestImage: i.tags[DesiredGraphBuilder.imageTag].flatMap { imageParameters[$0] }), deployment: d)
                }
            }
            var rolesProfiles: [String: [String: String]] = [:]
            for role in try await roles {
                guard let (d, k, kind) = owner(role.tags), kind == .role else { continue }
                add(Self.role(role, k), deployment: d)
                for p in role.instanceProfiles { rolesProfiles[p] = role.tags }
            }
            for profile in try await profiles {
                var tags = profile.tags ?? [:]
                if tags.isEmpty { tags = try await iam.instanceProfileTags(profile.name) }
                if let (d, k, kind) = owner(tags), kind == .instanceProfile {
                    add(ObservedResource(key: k, kind: .instanceProfile, id: profile.name,
                                         attributes: ["path": .string(profile.path), "roles": Normalize.strings(profile.roles)],
                                         tags: tags, details: ["arn": .string(profile.arn)]), deployment: d)
                }
            }
            let owned = try await parameters
            let names = owned.compactMap { Self.parameterName(arn: $0.arn) }
            let values = Dictionary(try await ssm.parameters(names).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for (arn, tags) in owned {
                guard let name = Self.parameterName(arn: arn), let (d, k, kind) = owner(tags), kind == .parameter else { continue }
                var attributes: [String: JSONValue] = [:]
                if let p = values[name] {
                    attributes["type"] = .string(p.type)
                    if let v = p.value { attributes["value"] = .string(v) }
                } else {
                    continue  // tagged but gone (deleted a moment ago)
                }
                add(ObservedResource(key: k, kind: .parameter, id: name, attributes: attributes, tags: tags, details: ["arn": .string(arn)]), deployment: d)
            }
            return out
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError(kind: .transport, code: "Cancelled", message: "\(error)", service: "reclaw", operation: "observe", region: region)
        }
    }

    // MARK: normalization into the desired graph's shapes

    static func vpc(_ v: EC2.Vpc, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .vpc, id: v.id, attributes: ["cidr": .string(v.cidrBlock)], tags: v.tags, details: ["state": .string(v.state)])
    }

    static func subnet(_ s: EC2.Subnet, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .subnet, id: s.id, attributes: [
            "vpc": .string(s.vpcId), "cidr": .string(s.cidrBlock), "availabilityZone": .string(s.availabilityZone),
            "mapPublicIpOnLaunch": .bool(s.mapPublicIpOnLaunch),
        ], tags: s.tags)
    }

    static func gateway(_ g: EC2.InternetGateway, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .internetGateway, id: g.id, attributes: ["vpc": g.attachedVpcs.first.map { .string($0) } ?? .null],
                         tags: g.tags, details: ["attachedVpcs": Normalize.strings(g.attachedVpcs)])
    }

    static func routeTable(_ t: EC2.RouteTable, _ key: ComponentKey) -> ObservedResource {
        // The local route is AWS's own: not compared.
        let routes = t.routes.filter { $0.gatewayId != "local" }.map { r -> JSONValue in
            ["destination": .string(r.destination), "gateway": r.gatewayId.map { .string($0) } ?? .null]
        }
        let associations = t.associations.filter { !$0.main }
        return ObservedResource(key: key, kind: .routeTable, id: t.id, attributes: [
            "vpc": .string(t.vpcId), "routes": Normalize.set(routes), "subnets": Normalize.strings(associations.compactMap(\.subnetId)),
        ], tags: t.tags, details: ["associations": .object(Dictionary(associations.compactMap { a in a.subnetId.map { ($0, JSONValue.string(a.id)) } }, uniquingKeysWith: { a, _ in a }))])
    }

    static func rules(_ rules: Set<EC2.Rule>) -> JSONValue {
        Normalize.set(rules.map { DesiredGraphBuilder.rule($0.protocolName, $0.fromPort, $0.toPort, .string($0.peer)) })
    }

    static func securityGroup(_ g: EC2.SecurityGroup, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .securityGroup, id: g.id, attributes: [
            "vpc": .string(g.vpcId), "ingress": rules(g.ingress), "egress": rules(g.egress),
        ], tags: g.tags, details: ["groupName": .string(g.name)])
    }

    static func endpoint(_ e: EC2.VpcEndpoint, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .vpcEndpoint, id: e.id, attributes: [
            "vpc": .string(e.vpcId), "serviceName": .string(e.serviceName), "privateDns": .bool(e.privateDnsEnabled),
            "subnets": Normalize.strings(e.subnetIds), "securityGroups": Normalize.strings(e.groupIds),
        ], tags: e.tags, details: ["state": .string(e.state)])
    }

    static func instanceRank(_ i: EC2.Instance) -> Int {
        ["running": 0, "pending": 1, "stopping": 2, "stopped": 3][i.state] ?? 4
    }

    static func instance(_ i: EC2.Instance, _ key: ComponentKey, volume: EC2.Volume?, latestImage: String?) -> ObservedResource {
        var details: [String: JSONValue] = ["state": .string(i.state), "imageId": .string(i.imageId)]
        if let ip = i.publicIp { details["publicIp"] = .string(ip) }
        if let v = volume { details["volumeId"] = .string(v.id); details["volumeEncrypted"] = .bool(v.encrypted); details["volumeType"] = .string(v.type) }
        if let latestImage { details["latestImage"] = .string(latestImage) }
        if let arn = i.instanceProfileArn { details["instanceProfileArn"] = .string(arn) }
        return ObservedResource(key: key, kind: .instance, id: i.id, attributes: [
            "instanceType": .string(i.type),
            "image": .string(i.tags[DesiredGraphBuilder.imageTag] ?? i.imageId),
            "subnet": i.subnetId.map { .string($0) } ?? .null,
            "securityGroups": Normalize.strings(i.securityGroupIds),
            "httpTokens": .string(i.httpTokens ?? "optional"),
            "rootVolumeGiB": volume.map { .int($0.size) } ?? .null,
            "keyName": i.keyName.map { .string($0) } ?? .null,
            "config": i.tags[DesiredGraphBuilder.configTag].map { .string($0) } ?? .null,
        ], tags: i.tags, details: details)
    }

    static func role(_ r: IAM.Role, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .role, id: r.name, attributes: [
            "path": .string(r.path), "trustPolicy": Policies.canonical(r.trustPolicy),
            "managedPolicies": Normalize.strings(r.managedPolicyArns),
            "inlinePolicies": .object(r.inlinePolicies.mapValues(Policies.canonical)),
        ], tags: r.tags, details: ["arn": .string(r.arn), "instanceProfiles": Normalize.strings(r.instanceProfiles)])
    }

    /// `/openclaw/NAME/leaf` from `arn:aws:ssm:REGION:ACCOUNT:parameter/openclaw/NAME/leaf`.
    static func parameterName(arn: String) -> String? {
        guard let r = arn.range(of: ":parameter") else { return nil }
        let name = String(arn[r.upperBound...])
        return name.hasPrefix("/") ? name : "/" + name
    }
}
