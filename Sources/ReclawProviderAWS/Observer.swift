import Foundation
import Logging
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// What one batched observation of a region found: every deployment's resources, and the
/// deployments for which a read of one of their own resources failed. Planning those would act on
/// a partial picture, so they fail alone; the others are planned as usual.
public struct Observation: Sendable {
    public var deployments: [String: ObservedDeployment]
    /// By deployment name: the first read that failed for one of its resources.
    public var failures: [String: AWSError]
    /// The AMI behind each `ssm:` image reference read with the deployments' parameters.
    public var imageAliases: [String: String]

    public init(deployments: [String: ObservedDeployment] = [:], failures: [String: AWSError] = [:], imageAliases: [String: String] = [:]) {
        self.deployments = deployments
        self.failures = failures
        self.imageAliases = imageAliases
    }
}

/// Reads every reclaw-owned resource of a region in one batch: one tag-filtered Describe call per
/// EC2 resource type covers every deployment (asked for by name when the batch plans at most
/// `scopedListingLimit` of them, so a job's read does not grow with the fleet around it); IAM comes from GetAccountAuthorizationDetails and
/// ListInstanceProfiles (pages, not per-resource calls); SSM parameters from one tag query of the
/// Resource Groups Tagging API, their versions from DescribeParameters fifty at a time, and the
/// values that changed since they were read from GetParameters ten at a time. One more Describe reads every
/// route table of the owned VPCs, main tables included, to know what serves each subnet. Nothing
/// here mutates.
///
/// Per-resource calls remain only where AWS has nothing better, and those kept in a
/// `SlowAttributeCache` between observations are read on its slower cadence: the VPCs' DNS
/// attributes (one DescribeVpcAttribute per VPC and attribute), the tags of instance profiles
/// (ListInstanceProfileTags, when ListInstanceProfiles leaves them out, as AWS does), at most
/// `readConcurrency` calls at a time. Read on every observation: the `ssm:` image parameters (to
/// report a newer AMI, in the GetParameters calls above), and DescribeVolumes by id for a root
/// volume that lost its tags (rare).
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
    /// The String parameters' values as last read; nil: every value is read again.
    public let parameterReadings: ParameterReadings?
    /// How many per-resource reads are in flight at once (the batched reads are few and fixed).
    public let readConcurrency: Int
    public let logger: Logger

    public init(client: AWSClient, region: String, context: AWSCallContext = AWSCallContext(), slowAttributes: SlowAttributeCache? = nil,
                parameterReadings: ParameterReadings? = nil, readConcurrency: Int = 8, logger: Logger = Logger(label: "reclaw.observe")) {
        self.parameterReadings = parameterReadings
        self.client = client
        self.region = region
        self.context = context
        self.slowAttributes = slowAttributes
        self.readConcurrency = max(1, readConcurrency)
        self.logger = logger
    }

    static let ownerFilter: EC2Client.Filter = ("tag-key", [OwnershipTags.deployment])
    /// Resources tagged as one of `only`'s deployments, when they are few enough to name in one
    /// filter; otherwise every resource with the deployment tag.
    static func ownerFilter(_ only: Set<String>?) -> EC2Client.Filter {
        guard let only, !only.isEmpty, only.count <= scopedListingLimit else { return ownerFilter }
        return ("tag:\(OwnershipTags.deployment)", only.sorted())
    }
    /// Up to this many deployments, a listing that pages is asked for theirs by name (20 a call)
    /// rather than for the whole region's.
    static let scopedListingLimit = 100
    static let dnsAttributes = [AttributeKey.enableDnsSupport.rawValue, AttributeKey.enableDnsHostnames.rawValue]

    /// Everything owned by reclaw in the region (and IAM), grouped by deployment name. Instance
    /// profiles come from GetAccountAuthorizationDetails' pages, which list only those holding a
    /// role; with `everyProfile` (destroy and prune, which must find them all) ListInstanceProfiles
    /// is read too. A recorded profile the pages leave out is read by name before it counts as gone.
    ///
    /// `imageAliases` (`ssm:/aws/service/…` references) are read in the same GetParameters calls as
    /// the deployments' parameters, with those the instances were launched from: one read per pass.
    /// With `only`, the batched listings still cover the region, but nothing of another deployment
    /// is read one by one (DNS attributes, profile tags, parameter values) or returned: a job reads
    /// what it needs, and the cost of one deployment does not grow with the fleet around it.
    public func observe(everyProfile: Bool = false, imageAliases: Set<String> = [], only: Set<String>? = nil) async throws(AWSError) -> Observation {
        let ec2 = EC2Client(client: client, region: region, context: context)
        let iam = IAMClient(client: client, region: region, context: context)
        let ssm = SSMClient(client: client, region: region, context: context)
        let tagging = TaggingClient(client: client, region: region, context: context)
        // A few deployments' resources are asked for by their deployment tag's value: the listing of
        // every owned resource of the region grows by a page each few hundred deployments, and a
        // region's whole listing is large for AWS to send (and for reclaw to read) on every job.
        let owners = Self.ownerFilter(only)
        do {
            async let vpcs = ec2.vpcs([owners])
            async let subnets = ec2.subnets([owners])
            async let gateways = ec2.internetGateways([owners])
            async let groups = ec2.securityGroups([owners])
            async let endpoints = ec2.vpcEndpoints([owners])
            async let instances = ec2.instances([owners, ("instance-state-name", Self.liveInstanceStates)])
            async let volumes = ec2.volumes([owners])
            // Roles and the instance profiles holding them come from the same pages.
            async let iamDetails = iam.authorizationDetails(pathPrefix: DesiredGraphBuilder.iamPath)
            // A few deployments' parameters are asked for by their deployment tag: the listing
            // of every parameter in the region grows by a page each hundred parameters.
            async let parameters = tagging.resources(type: "ssm:parameter", tagKey: OwnershipTags.deployment,
                                                     values: only.flatMap { $0.count <= Self.scopedListingLimit ? $0.sorted() : nil })

            var out: [String: ObservedDeployment] = [:]
            var failures: [String: AWSError] = [:]
            func add(_ r: ObservedResource, deployment: String) {
                out[deployment, default: ObservedDeployment(deployment: deployment)].add(r)
            }
            func fail(_ deployment: String, _ error: AWSError) {
                if failures[deployment] == nil { failures[deployment] = error }
            }
            func owner(_ tags: [String: String]) -> (String, ComponentKey, ResourceKind)? {
                guard let d = tags[OwnershipTags.deployment], only?.contains(d) ?? true,
                      let k = tags[OwnershipTags.component], let kind = Components.kind(of: k) else { return nil }
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

            // One read of every route table of the owned VPCs: reclaw's own tables and the main ones.
            let allTables = try await vpcTables
            let ownedTables = allTables.filter { owner($0.tags)?.2 == .routeTable }
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
            // Every instance with the tags is a candidate; which one is reclaw's is its recorded id's
            // business (`Identity`), never its state.
            for i in running {
                if let (d, k, kind) = owner(i.tags), kind == .instance {
                    let root = Self.rootVolumeID(i).flatMap { volumesByID[$0] } ?? volumesByID.values.first { $0.instanceId == i.id }
                    add(Self.instance(i, k, volume: root, latestImage: nil), deployment: d)
                }
            }
            let (roles, held) = try await iamDetails
            let listed = everyProfile ? Self.merge(held, try await iam.instanceProfiles(pathPrefix: DesiredGraphBuilder.iamPath)) : held
            for role in roles {
                guard let (d, k, kind) = owner(role.tags), kind == .role else { continue }
                add(Self.role(role, k), deployment: d)
            }
            // Tags are read for profiles named as a deployment of `only` (or every one without it).
            let unread = listed.filter { p in (p.tags ?? [:]).isEmpty && (only == nil || Self.deployment(ofProfile: p.name).map { only!.contains($0) } == true) }
            let (readTags, tagFailures) = await profileTags(unread.map(\.name), iam)
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
                                         typed: [.path: .string(profile.path), .roles: Normalize.strings(profile.roles)],
                                         tags: tags, details: ["arn": .string(profile.arn)]), deployment: d)
                }
            }
            let owned = try await parameters
            let mine = owned.filter { owner($0.tags) != nil }
            // The image references of the plan and of the running instances, in the same calls.
            let aliases = imageAliases.union(running.filter { owner($0.tags) != nil }.compactMap { $0.tags[DesiredGraphBuilder.imageTag] }).filter { $0.hasPrefix("ssm:") }
            let secret = Set(mine.filter { $0.tags[OwnershipTags.component] == Components.gatewayToken }.map(\.arn))
            let (values, amis) = try await parameterValues(of: mine.map(\.arn), secret: secret, aliases: aliases, ssm)
            for (d, var deployment) in out {
                for (i, r) in (deployment.resources[Components.instance] ?? []).enumerated() {
                    if let latest = r.tags[DesiredGraphBuilder.imageTag].flatMap({ amis[$0] }) {
                        deployment.resources[Components.instance]![i].details["latestImage"] = .string(latest)
                    }
                }
                out[d] = deployment
            }
            for (arn, tags) in owned {
                guard let name = Self.parameterName(arn: arn), let (d, k, kind) = owner(tags), kind == .parameter else { continue }
                // Tagged but gone (deleted a moment ago): not there.
                guard let p = values[arn] else { continue }
                var attributes: [AttributeKey: JSONValue] = [.type: .string(p.type)]
                if let v = p.value { attributes[.value] = .string(v) }
                add(ObservedResource(key: k, kind: .parameter, id: name, typed: attributes, tags: tags, details: ["arn": .string(arn)]), deployment: d)
            }
            return Observation(deployments: out, failures: failures, imageAliases: amis)
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError.cancelled(service: "reclaw", operation: "observe", region: region)
        }
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
}
