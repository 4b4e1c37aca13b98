import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// VPC, internet gateway, subnets and the public route table.
extension AWSDriver {
    func createVpc(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let ec2 = ec2(c)
        let id = try await ec2.createVpc(cidr: d.string(.cidr)!, tags: d.tags)
        let support = d.bool(.enableDnsSupport) ?? true, hostnames = d.bool(.enableDnsHostnames) ?? true
        // EC2 takes one attribute per call; the two are independent.
        async let setSupport: Void = ec2.modifyVpcAttribute(id, "EnableDnsSupport", support)
        async let setHostnames: Void = ec2.modifyVpcAttribute(id, "EnableDnsHostnames", hostnames)
        _ = try await (setSupport, setHostnames)
        await recordDNS(id, support: support, hostnames: hostnames)
        return id
    }

    /// Turns the DNS attributes back on; support first, since hostnames need it.
    func updateVpc(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        var values = (support: r[.enableDnsSupport]?.boolValue, hostnames: r[.enableDnsHostnames]?.boolValue)
        for attribute in [AttributeKey.enableDnsSupport, .enableDnsHostnames] where changed.contains(attribute) {
            let name = attribute.rawValue, value = d.bool(attribute) ?? true
            try await ec2(c).modifyVpcAttribute(r.id, name.prefix(1).uppercased() + name.dropFirst(), value)
            if attribute == .enableDnsSupport { values.support = value } else { values.hostnames = value }
        }
        if let support = values.support, let hostnames = values.hostnames { await recordDNS(r.id, support: support, hostnames: hostnames) }
    }

    /// Records the DNS attributes a VPC was just given: AWS answered ModifyVpcAttribute, so they
    /// are what it holds, and reading them back (two calls per VPC) would learn nothing. A change
    /// by someone else later is CloudTrail's to report (it invalidates the entry) or the slow
    /// read's to find.
    func recordDNS(_ vpc: String, support: Bool, hostnames: Bool) async {
        await slowAttributes?.store([vpc: [AWSObserver.dnsAttributes[0]: .bool(support), AWSObserver.dnsAttributes[1]: .bool(hostnames)]])
    }

    func deleteVpc(_ r: ObservedResource, _ c: StepContext) async throws {
        try await deleteWhenFree(r, c, action: "DeleteVpc", parameter: "VpcId")
    }

    func createGateway(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let id = try await ec2(c).createInternetGateway(tags: d.tags)
        if let vpc = d.string(.vpc) { try await ec2(c).attachInternetGateway(id, vpcId: vpc) }
        return id
    }

    func updateGateway(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        guard changed.contains(.vpc), let vpc = d.string(.vpc) else { return }
        for attached in r.details["attachedVpcs"]?.arrayValue?.compactMap(\.stringValue) ?? [] where attached != vpc {
            try await ec2(c).detachInternetGateway(r.id, vpcId: attached)
        }
        try await ec2(c).attachInternetGateway(r.id, vpcId: vpc)
    }

    func deleteGateway(_ r: ObservedResource, _ c: StepContext) async throws {
        for attached in r.details["attachedVpcs"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            try await waiter.retrying("\(r.id) to detach from \(attached)", on: ["DependencyViolation"], deadline: waiter.deadlines.dependencyRelease) { () async throws(AWSError) in
                do throws(AWSError) {
                    try await ec2(c).detachInternetGateway(r.id, vpcId: attached)
                } catch {
                    if error.code != "Gateway.NotAttached" && !error.isNotFound { throw error }
                }
            }
        }
        try await deleteWhenFree(r, c, action: "DeleteInternetGateway", parameter: "InternetGatewayId")
    }

    func createSubnet(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let id = try await ec2(c).createSubnet(vpcId: d.string(.vpc)!, cidr: d.string(.cidr)!, zone: d.string(.availabilityZone)!, tags: d.tags)
        if d.bool(.mapPublicIpOnLaunch) == true { try await ec2(c).modifySubnetMapPublicIp(id, true) }
        return id
    }

    func updateSubnet(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        if changed.contains(.mapPublicIpOnLaunch) { try await ec2(c).modifySubnetMapPublicIp(r.id, d.bool(.mapPublicIpOnLaunch) ?? false) }
        // internetGatewayRoutes needs nothing here: the table that serves the subnet is reclaw's
        // private-rt again once its own update (which runs after this one) deletes a route added to
        // it or moves the subnet's association back. reclaw never edits the main table.
    }

    func createRouteTable(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let ec2 = ec2(c)
        let subnets = d.strings(.subnets)
        // Which table routes each subnet now does not depend on the new table: it is read while
        // the table is made, not after, so the association takes one round trip less.
        async let current = currentAssociations(subnets, ec2)
        let id = try await ec2.createRouteTable(vpcId: d.string(.vpc)!, tags: d.tags)
        let associations = try await current
        // Routes and subnet associations are independent of each other.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for route in Self.routes(d[.routes]?.value) {
                group.addTask { try await ec2.createRoute(tableId: id, destination: route.destination, gatewayId: route.gateway) }
            }
            for subnet in subnets {
                group.addTask { try await associate(subnet, with: id, current: associations[subnet] ?? nil, ec2) }
            }
            try await group.waitForAll()
        }
        return id
    }

    /// For each subnet, the table and association that route it explicitly (nil: the VPC's main table).
    func currentAssociations(_ subnets: [String], _ ec2: EC2Client) async throws -> [String: (table: String, association: String)?] {
        try await withThrowingTaskGroup(of: (String, (table: String, association: String)?).self) { group in
            for subnet in subnets { group.addTask { (subnet, try await currentAssociation(subnet, ec2)) } }
            var out: [String: (table: String, association: String)?] = [:]
            for try await (subnet, association) in group { out[subnet] = association }
            return out
        }
    }

    func currentAssociation(_ subnet: String, _ ec2: EC2Client) async throws -> (table: String, association: String)? {
        try await ec2.routeTables([("association.subnet-id", [subnet])])
            .lazy.compactMap { t in t.associations.first { !$0.main && $0.subnetId == subnet }.map { (t.id, $0.id) } }.first
    }

    func updateRouteTable(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        let ec2 = ec2(c)
        if changed.contains(.routes) {
            let want = Self.routes(d[.routes]?.value)
            let have = Self.routes(r[.routes])
            for route in want where !have.contains(where: { $0 == route }) {
                if have.contains(where: { $0.destination == route.destination }) {
                    try await ec2.replaceRoute(tableId: r.id, destination: route.destination, gatewayId: route.gateway)
                } else {
                    try await ec2.createRoute(tableId: r.id, destination: route.destination, gatewayId: route.gateway)
                }
            }
            for route in have where !want.contains(where: { $0.destination == route.destination }) {
                try await ec2.deleteRoute(tableId: r.id, destination: route.destination)
            }
        }
        if changed.contains(.subnets) {
            let want = Set(d.strings(.subnets)), have = Set(r.strings(.subnets))
            let associations = r.details["associations"]?.objectValue ?? [:]
            for subnet in have.subtracting(want) {
                if let id = associations[subnet]?.stringValue { try await ec2.disassociateRouteTable(associationId: id) }
            }
            for subnet in want.subtracting(have) { try await associate(subnet, with: r.id, ec2) }
        }
    }

    /// Makes `table` the one that routes `subnet`: a subnet associated with another table by hand
    /// has that association moved; one on the VPC's main table gets its own association.
    func associate(_ subnet: String, with table: String, _ ec2: EC2Client) async throws {
        try await associate(subnet, with: table, current: try await currentAssociation(subnet, ec2), ec2)
    }

    /// The same, knowing the subnet's `current` association.
    func associate(_ subnet: String, with table: String, current: (table: String, association: String)?, _ ec2: EC2Client) async throws {
        if let (other, association) = current {
            guard other != table else { return }
            _ = try await ec2.replaceRouteTableAssociation(associationId: association, tableId: table)
        } else {
            _ = try await ec2.associateRouteTable(tableId: table, subnetId: subnet)
        }
    }

    func deleteRouteTable(_ r: ObservedResource, _ c: StepContext) async throws {
        for (_, association) in r.details["associations"]?.objectValue ?? [:] {
            if let id = association.stringValue {
                _ = try await absent { () async throws(AWSError) in try await ec2(c).disassociateRouteTable(associationId: id) }
            }
        }
        try await deleteWhenFree(r, c, action: "DeleteRouteTable", parameter: "RouteTableId")
    }

    struct Route: Equatable {
        var destination: String
        var gateway: String
    }

    static func routes(_ value: JSONValue?) -> [Route] {
        (value?.arrayValue ?? []).compactMap { r in
            guard let d = r["destination"]?.stringValue, let g = r["gateway"]?.stringValue else { return nil }
            return Route(destination: d, gateway: g)
        }
    }
}
