import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// AWS's answers put in the shapes the desired graph uses, so the differ compares value for value.
extension AWSObserver {

    static func vpc(_ v: EC2.Vpc, _ key: ComponentKey, dns: SlowAttributeCache.Entry?) -> ObservedResource {
        var attributes: [String: JSONValue] = [AttributeKey.cidr.rawValue: .string(v.cidrBlock)]
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
        return ObservedResource(key: key, kind: .subnet, id: s.id, typed: [
            .vpc: .string(s.vpcId), .cidr: .string(s.cidrBlock), .availabilityZone: .string(s.availabilityZone),
            .mapPublicIpOnLaunch: .bool(s.mapPublicIpOnLaunch), .internetGatewayRoutes: Normalize.set(internetRoutes),
        ], tags: s.tags, details: details)
    }

    static func gateway(_ g: EC2.InternetGateway, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .internetGateway, id: g.id, typed: [.vpc: g.attachedVpcs.first.map { .string($0) } ?? .null],
                         tags: g.tags, details: ["attachedVpcs": Normalize.strings(g.attachedVpcs)])
    }

    static func routeTable(_ t: EC2.RouteTable, _ key: ComponentKey) -> ObservedResource {
        // The local route is AWS's own: not compared.
        let routes = t.routes.filter { $0.gatewayId != "local" }.map { r -> JSONValue in
            ["destination": .string(r.destination), "gateway": r.gatewayId.map { .string($0) } ?? .null]
        }
        let associations = t.associations.filter { !$0.main }
        return ObservedResource(key: key, kind: .routeTable, id: t.id, typed: [
            .vpc: .string(t.vpcId), .routes: Normalize.set(routes), .subnets: Normalize.strings(associations.compactMap(\.subnetId)),
        ], tags: t.tags, details: ["associations": .object(Dictionary(associations.compactMap { a in a.subnetId.map { ($0, JSONValue.string(a.id)) } }, uniquingKeysWith: { a, _ in a }))])
    }

    static func rules(_ rules: Set<EC2.Rule>) -> JSONValue {
        Normalize.set(rules.map { DesiredGraphBuilder.rule($0.protocolName, $0.fromPort, $0.toPort, .string($0.peer)) })
    }

    static func securityGroup(_ g: EC2.SecurityGroup, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .securityGroup, id: g.id, typed: [
            .vpc: .string(g.vpcId), .ingress: rules(g.ingress), .egress: rules(g.egress),
        ], tags: g.tags, details: ["groupName": .string(g.name)])
    }

    static func endpoint(_ e: EC2.VpcEndpoint, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .vpcEndpoint, id: e.id, typed: [
            .vpc: .string(e.vpcId), .serviceName: .string(e.serviceName), .privateDns: .bool(e.privateDnsEnabled),
            .subnets: Normalize.strings(e.subnetIds), .securityGroups: Normalize.strings(e.groupIds),
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
        return ObservedResource(key: key, kind: .instance, id: i.id, typed: [
            .instanceType: .string(i.type),
            .image: .string(i.tags[DesiredGraphBuilder.imageTag] ?? i.imageId),
            .subnet: i.subnetId.map { .string($0) } ?? .null,
            .securityGroups: Normalize.strings(i.securityGroupIds),
            .httpTokens: .string(i.httpTokens ?? "optional"),
            .rootVolumeGiB: volume.map { .int($0.size) } ?? .null,
            .rootVolumeType: volume.map { .string($0.type) } ?? .null,
            .rootVolumeEncrypted: volume.map { .bool($0.encrypted) } ?? .null,
            // The profile's name: unique in the account, and what reclaw launched with.
            .instanceProfile: i.instanceProfileArn.flatMap { $0.split(separator: "/").last.map { .string(String($0)) } } ?? .null,
            .keyName: i.keyName.map { .string($0) } ?? .null,
            .config: i.tags[DesiredGraphBuilder.configTag].map { .string($0) } ?? .null,
        ], tags: i.tags, details: details)
    }

    static func role(_ r: IAM.Role, _ key: ComponentKey) -> ObservedResource {
        ObservedResource(key: key, kind: .role, id: r.name, typed: [
            .path: .string(r.path), .trustPolicy: Policies.canonical(r.trustPolicy),
            .managedPolicies: Normalize.strings(r.managedPolicyArns),
            .inlinePolicies: .object(r.inlinePolicies.mapValues(Policies.canonical)),
            .permissionsBoundary: r.permissionsBoundary.map { .string($0) } ?? .null,
        ], tags: r.tags, details: ["arn": .string(r.arn), "instanceProfiles": Normalize.strings(r.instanceProfiles)])
    }

    /// `/openclaw/NAME/leaf` from `arn:aws:ssm:REGION:ACCOUNT:parameter/openclaw/NAME/leaf`.
    static func parameterName(arn: String) -> String? {
        guard let r = arn.range(of: ":parameter") else { return nil }
        let name = String(arn[r.upperBound...])
        return name.hasPrefix("/") ? name : "/" + name
    }
}
