import Foundation
import Logging
import ReclawAWS
import ReclawEngine
import ReclawJSON

/// What one batched observation of a region found: every deployment's resources, and the
/// deployments for which a read of one of their own resources failed. Planning those would act on
/// a partial picture, so they fail alone; the others are planned as usual.
public struct Observation: Sendable {
    public var deployments: [String: ObservedDeployment]
    /// By deployment name: the first read that failed for one of its resources.
    public var failures: [String: AWSError]

    public init(deployments: [String: ObservedDeployment] = [:], failures: [String: AWSError] = [:]) {
        self.deployments = deployments
        self.failures = failures
    }
}

/// Reads every reclaw-owned resource of a region in one batch: one tag-filtered Describe call per
/// EC2 resource type covers every deployment; IAM comes from GetAccountAuthorizationDetails and
/// ListInstanceProfiles (pages, not per-resource calls); SSM parameters from one tag query of the
/// Resource Groups Tagging API and GetParameters ten at a time. One more Describe reads every
/// route table of the owned VPCs, main tables included, to know what serves each subnet. Nothing
/// here mutates.
///
/// Per-resource calls remain only where AWS has nothing better, and those kept in a
/// `SlowAttributeCache` between observations are read on its slower cadence: the VPCs' DNS
/// attributes (one DescribeVpcAttribute per VPC and attribute), the tags of instance profiles
/// (ListInstanceProfileTags, when ListInstanceProfiles leaves them out, as AWS does), at most
/// `readConcurrency` calls at a time. Read on every observation: GetParameter for each distinct
/// `ssm:` image parameter (to report a newer AMI), and DescribeVolumes by id for a root volume
/// that lost its tags (rare).
///
/// A batched read that fails fails the whole observation: nothing can be said of any deployment.
/// A per-resource read that fails fails the deployment the resource belongs to (by its tag, or by
/// the name reclaw gives it); one that belongs to no deployment is logged and skipped.
public struct AWSObserver: Sendable {
    public let client: AWSClient
    public let region: String
    public let context: AWSCallContext
    /// Where the VPCs' DNS attributes are kept between observations; nil: not read at all
    /// (destroying a deployment needs none of them).
    public let slowAttributes: SlowAttributeCache?
    /// How many per-resource reads are in flight at once (the batched reads are few and fixed).
    public let readConcurrency: Int
    public let logger: Logger

    public init(client: AWSClient, region: String, context: AWSCallContext = AWSCallContext(), slowAttributes: SlowAttributeCache? = nil,
                readConcurrency: Int = 8, logger: Logger = Logger(label: "reclaw.observe")) {
        self.client = client
        self.region = region
        self.context = context
        self.slowAttributes = slowAttributes
        self.readConcurrency = max(1, readConcurrency)
        self.logger = logger
    }

    static let ownerFilter: EC2Client.Filter = ("tag-key", [OwnershipTags.deployment])
    static let dnsAttributes = ["enableDnsSupport", "enableDnsHostnames"]

    /// Everything owned by reclaw in the region (and IAM), grouped by deployment name. Instance
    /// profiles come from GetAccountAuthorizationDetails' pages, which list only those holding a
    /// role; with `everyProfile` (destroy and prune, which must find them all) ListInstanceProfiles
    /// is read too. A recorded profile the pages leave out is read by name before it counts as gone.
    public func observe(everyProfile: Bool = false) async throws(AWSError) -> Observation {
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
            async let instances = ec2.instances([Self.ownerFilter, ("instance-state-name", Self.liveInstanceStates)])
            async let volumes = ec2.volumes([Self.ownerFilter])
            // Roles and the instance profiles holding them come from the same pages.
            async let iamDetails = iam.authorizationDetails(pathPrefix: DesiredGraphBuilder.iamPath)
            async let parameters = tagging.resources(type: "ssm:parameter", tagKey: OwnershipTags.deployment)

            var out: [String: ObservedDeployment] = [:]
            var failures: [String: AWSError] = [:]
            func add(_ r: ObservedResource, deployment: String) {
                out[deployment, default: ObservedDeployment(deployment: deployment)].add(r)
            }
            func fail(_ deployment: String, _ error: AWSError) {
                if failures[deployment] == nil { failures[deployment] = error }
            }
            func owner(_ tags: [String: String]) -> (String, ComponentKey, ResourceKind)? {
                guard let d = tags[OwnershipTags.deployment], let k = tags[OwnershipTags.component], let kind = Components.kind(of: k) else { return nil }
                return (d, k, kind)
            }
            let ownedVpcs = try await vpcs.compactMap { v -> (EC2.Vpc, String, ComponentKey)? in
                guard let (d, k, kind) = owner(v.tags), kind == .vpc else { return nil }
                return (v, d, k)
            }
            // Both need only the VPC ids, and run while the other batched reads are in flight.
            async let vpcTables = routeTables(ofVpcs: ownedVpcs.map(\.0.id), ec2)
            async let dns = dnsAttributes(ownedVpcs.map { ($0.0.id, $0.1) }, ec2)
            let (dnsValues, dnsFailures) = await dns
            for (id, error) in dnsFailures { if let (_, d, _) = ownedVpcs.first(where: { $0.0.id == id }) { fail(d, error) } }
            for (v, d, k) in ownedVpcs { add(Self.vpc(v, k, dns: dnsValues[v.id]), deployment: d) }

            let ownedTables = try await tables
            let allTables = ownedTables + (try await vpcTables).filter { t in !ownedTables.contains { $0.id == t.id } }
            for s in try await subnets {
                if let (d, k, kind) = owner(s.tags), kind == .subnet { add(Self.subnet(s, k, served: Self.effectiveTable(of: s, in: allTables)), deployment: d) }
            }
            for g in try await gateways { if let (d, k, kind) = owner(g.tags), kind == .internetGateway { add(Self.gateway(g, k), deployment: d) } }
            for t in ownedTables { if let (d, k, kind) = owner(t.tags), kind == .routeTable { add(Self.routeTable(t, k), deployment: d) } }
            for g in try await groups { if let (d, k, kind) = owner(g.tags), kind == .securityGroup { add(Self.securityGroup(g, k), deployment: d) } }
            for e in try await endpoints where !Self.goneEndpointStates.contains(e.state) {
                if let (d, k, kind) = owner(e.tags), kind == .vpcEndpoint { add(Self.endpoint(e, k), deployment: d) }
            }
            let running = try await instances
            var volumesByID = Dictionary(try await volumes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            // A root volume without reclaw's tags (swapped by hand, or untagged) is read by id: the
            // instance's own block device mapping says which volume is its root.
            let untagged = running.compactMap { i -> (String, String)? in
                guard let (d, _, kind) = owner(i.tags), kind == .instance, let root = Self.rootVolumeID(i), volumesByID[root] == nil else { return nil }
                return (d, root)
            }
            if !untagged.isEmpty {
                do {
                    for v in try await ec2.volumes([("volume-id", untagged.map(\.1))]) { volumesByID[v.id] = v }
                } catch {
                    for (d, _) in untagged { fail(d, error) }
                }
            }
            var imageParameters: [String: String] = [:]
            for parameter in Set(running.compactMap { $0.tags[DesiredGraphBuilder.imageTag] }.filter { $0.hasPrefix("ssm:") }) {
                do {
                    imageParameters[parameter] = try await ssm.parameterValue(String(parameter.dropFirst(4)))
                } catch {
                    // Only the note about a newer AMI depends on it.
                    logger.warning("cannot read an image parameter; no newer-AMI note this time", metadata: ["parameter": "\(parameter)", "aws.error_code": "\(error.code)"])
                }
            }
            // Every instance with the tags is a candidate; which one is reclaw's is its recorded id's
            // business (`Identity`), never its state.
            for i in running {
                if let (d, k, kind) = owner(i.tags), kind == .instance {
                    let root = Self.rootVolumeID(i).flatMap { volumesByID[$0] } ?? volumesByID.values.first { $0.instanceId == i.id }
                    add(Self.instance(i, k, volume: root, latestImage: i.tags[DesiredGraphBuilder.imageTag].flatMap { imageParameters[$0] }), deployment: d)
                }
            }
            let (roles, held) = try await iamDetails
            let listed = everyProfile ? Self.merge(held, try await iam.instanceProfiles(pathPrefix: DesiredGraphBuilder.iamPath)) : held
            for role in roles {
                guard let (d, k, kind) = owner(role.tags), kind == .role else { continue }
                add(Self.role(role, k), deployment: d)
            }
            let (readTags, tagFailures) = await profileTags(listed.filter { ($0.tags ?? [:]).isEmpty }.map(\.name), iam)
            for profile in listed {
                var tags = profile.tags ?? [:]
                if tags.isEmpty {
                    if let error = tagFailures[profile.name] {
                        if let d = Self.deployment(ofProfile: profile.name) {
                            fail(d, error)
                        } else {
                            logger.warning("skipping an instance profile whose tags cannot be read; its name is not one reclaw gives",
                                           metadata: ["instance_profile": "\(profile.name)", "aws.error_code": "\(error.code)", "aws.request_id": "\(error.requestID ?? "")"])
                        }
                        continue
                    }
                    tags = readTags[profile.name] ?? [:]
                }
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
            return Observation(deployments: out, failures: failures)
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError.cancelled(service: "reclaw", operation: "observe", region: region)
        }
    }

    /// Instance profiles' tags (AWS's ListInstanceProfiles leaves them out): from the cache while
    /// young, else read with ListInstanceProfileTags, `readConcurrency` at a time, and kept. Failures by name.
    func profileTags(_ names: [String], _ iam: IAMClient) async -> ([String: [String: String]], [String: AWSError]) {
        var known: [String: [String: String]] = [:]
        var stale: [String] = []
        for name in names {
            if let cached = await slowAttributes?.fresh(name)?.values[Self.profileTagsKey]?.objectValue {
                known[name] = cached.compactMapValues(\.stringValue)
            } else {
                stale.append(name)
            }
        }
        var failures: [String: AWSError] = [:]
        var read: [String: [String: JSONValue]] = [:]
        let results = await BoundedConcurrency.map(stale, limit: readConcurrency) { name -> (String, Result<[String: String], AWSError>) in
            do throws(AWSError) { return (name, .success(try await iam.instanceProfileTags(name))) } catch { return (name, .failure(error)) }
        }
        for (name, result) in results {
            switch result {
            case .success(let tags):
                known[name] = tags
                read[name] = [Self.profileTagsKey: .object(tags.mapValues { .string($0) })]
            case .failure(let error):
                failures[name] = error
            }
        }
        await slowAttributes?.store(read)
        return (known, failures)
    }

    static let profileTagsKey = "tags"

    /// Profiles from two listings, each once (the second's tags where the first has none).
    static func merge(_ a: [IAM.InstanceProfile], _ b: [IAM.InstanceProfile]) -> [IAM.InstanceProfile] {
        var byName = Dictionary(a.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        for p in b where byName[p.name]?.tags == nil { byName[p.name] = byName[p.name].map { var q = $0; q.tags = p.tags; return q } ?? p }
        return byName.keys.sorted().compactMap { byName[$0] }
    }

    /// Every route table of the given VPCs (main tables and tables made by hand included), in
    /// calls of at most 100 VPC ids.
    func routeTables(ofVpcs ids: [String], _ ec2: EC2Client) async throws(AWSError) -> [EC2.RouteTable] {
        var out: [EC2.RouteTable] = []
        for start in stride(from: 0, to: ids.count, by: 100) {
            out += try await ec2.routeTables([("vpc-id", Array(ids[start..<min(start + 100, ids.count)]))])
        }
        return out
    }

    /// The DNS attributes of each VPC: from the cache while young, otherwise read (two calls per
    /// VPC, `readConcurrency` VPCs at a time). Failures come back by VPC id.
    func dnsAttributes(_ vpcs: [(id: String, deployment: String)], _ ec2: EC2Client) async -> ([String: SlowAttributeCache.Entry], [String: AWSError]) {
        guard let cache = slowAttributes, !vpcs.isEmpty else { return ([:], [:]) }
        var known: [String: SlowAttributeCache.Entry] = [:]
        var stale: [String] = []
        for v in vpcs {
            if let entry = await cache.fresh(v.id) { known[v.id] = entry } else { stale.append(v.id) }
        }
        guard !stale.isEmpty else { return (known, [:]) }
        var read: [String: [String: JSONValue]] = [:]
        var failures: [String: AWSError] = [:]
        let region = region
        let results = await BoundedConcurrency.map(stale, limit: readConcurrency) { id -> (String, Result<[String: JSONValue], AWSError>) in
            do {
                async let support = ec2.vpcAttribute(id, Self.dnsAttributes[0])
                async let hostnames = ec2.vpcAttribute(id, Self.dnsAttributes[1])
                let values: [String: JSONValue] = [Self.dnsAttributes[0]: .bool(try await support), Self.dnsAttributes[1]: .bool(try await hostnames)]
                return (id, .success(values))
            } catch let error as AWSError {
                return (id, .failure(error))
            } catch {
                return (id, .failure(AWSError.cancelled(service: "ec2", operation: "DescribeVpcAttribute", region: region)))
            }
        }
        for (id, result) in results {
            switch result {
            case .success(let v): read[id] = v
            case .failure(let e): failures[id] = e
            }
        }
        await cache.store(read)
        for id in read.keys { if let entry = await cache.fresh(id) { known[id] = entry } }
        return (known, failures)
    }

    // MARK: normalization into the desired graph's shapes

    static func vpc(_ v: EC2.Vpc, _ key: ComponentKey, dns: SlowAttributeCache.Entry?) -> ObservedResource {
        var attributes: [String: JSONValue] = ["cidr": .string(v.cidrBlock)]
        var details: [String: JSONValue] = ["state": .string(v.state)]
        if let dns {
            for (name, value) in dns.values { attributes[name] = value }
            details["dnsAttributesReadAt"] = .string(ISO8601.format(dns.readAt))
        }
        return ObservedResource(key: key, kind: .vpc, id: v.id, attributes: attributes, tags: v.tags, details: details)
    }

    /// The table that routes a subnet's traffic: the one explicitly associated with it, or else
    /// its VPC's main table.
    static func effectiveTable(of s: EC2.Subnet, in tables: [EC2.RouteTable]) -> (table: EC2.RouteTable, association: EC2.RouteTableAssociation?)? {
        for t in tables {
            if let a = t.associations.first(where: { !$0.main && $0.subnetId == s.id }) { return (t, a) }
        }
        return tables.first { $0.vpcId == s.vpcId && $0.associations.contains(where: \.main) }.map { ($0, nil) }
    }

    static func subnet(_ s: EC2.Subnet, _ key: ComponentKey, served: (table: EC2.RouteTable, association: EC2.RouteTableAssociation?)?) -> ObservedResource {
        var details: [String: JSONValue] = [:]
        var internetRoutes: [JSONValue] = []
        if let (table, association) = served {
            details["routeTable"] = .string(table.id)
            details["routeTableIsMain"] = .bool(association == nil)
            if let association { details["routeTableAssociation"] = .string(association.id) }
            internetRoutes = table.routes.filter { ($0.gatewayId ?? "").hasPrefix("igw-") && $0.state != "blackhole" }.map { r in
                ["destination": .string(r.destination), "gateway": r.gatewayId.map { .string($0) } ?? .null]
            }
        }
        return ObservedResource(key: key, kind: .subnet, id: s.id, attributes: [
            "vpc": .string(s.vpcId), "cidr": .string(s.cidrBlock), "availabilityZone": .string(s.availabilityZone),
            "mapPublicIpOnLaunch": .bool(s.mapPublicIpOnLaunch), "internetGatewayRoutes": Normalize.set(internetRoutes),
        ], tags: s.tags, details: details)
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

    /// The id of the volume at the instance's root device.
    static func rootVolumeID(_ i: EC2.Instance) -> String? {
        i.rootDeviceName.flatMap { i.volumes[$0] }
    }

    /// `reclaw-NAME-instance` → NAME: the deployment an instance profile of that name would belong to.
    static func deployment(ofProfile name: String) -> String? {
        guard name.hasPrefix("reclaw-"), name.hasSuffix("-instance"), name.count > "reclaw--instance".count else { return nil }
        return String(name.dropFirst("reclaw-".count).dropLast("-instance".count))
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
            "rootVolumeType": volume.map { .string($0.type) } ?? .null,
            "rootVolumeEncrypted": volume.map { .bool($0.encrypted) } ?? .null,
            // The profile's name: unique in the account, and what reclaw launched with.
            "instanceProfile": i.instanceProfileArn.flatMap { $0.split(separator: "/").last.map { .string(String($0)) } } ?? .null,
            "keyName": i.keyName.map { .string($0) } ?? .null,
            "config": i.tags[DesiredGraphBuilder.configTag].map { .string($0) } ?? .null,
        ], tags: i.tags, details: details)
    }

    static func role(_ r: IAM.Role, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .role, id: r.name, attributes: [
            "path": .string(r.path), "trustPolicy": Policies.canonical(r.trustPolicy),
            "managedPolicies": Normalize.strings(r.managedPolicyArns),
            "inlinePolicies": .object(r.inlinePolicies.mapValues(Policies.canonical)),
            "permissionsBoundary": r.permissionsBoundary.map { .string($0) } ?? .null,
        ], tags: r.tags, details: ["arn": .string(r.arn), "instanceProfiles": Normalize.strings(r.instanceProfiles)])
    }

    /// `/openclaw/NAME/leaf` from `arn:aws:ssm:REGION:ACCOUNT:parameter/openclaw/NAME/leaf`.
    static func parameterName(arn: String) -> String? {
        guard let r = arn.range(of: ":parameter") else { return nil }
        let name = String(arn[r.upperBound...])
        return name.hasPrefix("/") ? name : "/" + name
    }
}
