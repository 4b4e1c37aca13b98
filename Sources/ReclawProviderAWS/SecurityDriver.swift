import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// Security groups (rules by set difference) and interface VPC endpoints.
extension AWSDriver {
    static func rules(_ value: JSONValue?) -> Set<EC2.Rule> {
        Set((value?.arrayValue ?? []).compactMap { r in
            guard let proto = r["protocol"]?.stringValue, let peer = r["peer"]?.stringValue else { return nil }
            return EC2.Rule(protocolName: proto, fromPort: r["fromPort"]?.intValue, toPort: r["toPort"]?.intValue, peer: peer)
        })
    }

    func createSecurityGroup(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let name = d.string(.groupName) ?? "\(c.deployment)-\(d.key)"
        let id = try await ec2(c).createSecurityGroup(name: name, description: "reclaw \(c.deployment) \(d.key)", vpcId: d.string(.vpc)!, tags: d.tags)
        // A new group has no ingress and AWS's default egress (all traffic to 0.0.0.0/0).
        let defaultEgress: Set<EC2.Rule> = [EC2.Rule(protocolName: "-1", fromPort: nil, toPort: nil, peer: "0.0.0.0/0")]
        try await applyRules(id, want: Self.rules(d[.ingress]?.value), have: [], direction: "Ingress", c)
        try await applyRules(id, want: Self.rules(d[.egress]?.value), have: defaultEgress, direction: "Egress", c)
        return id
    }

    func updateSecurityGroup(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        if changed.contains(.ingress) {
            try await applyRules(r.id, want: Self.rules(d[.ingress]?.value), have: Self.rules(r[.ingress]), direction: "Ingress", c)
        }
        if changed.contains(.egress) {
            try await applyRules(r.id, want: Self.rules(d[.egress]?.value), have: Self.rules(r[.egress]), direction: "Egress", c)
        }
    }

    /// Revokes what should not be there, then authorizes what is missing.
    func applyRules(_ group: String, want: Set<EC2.Rule>, have: Set<EC2.Rule>, direction: String, _ c: StepContext) async throws {
        try await ec2(c).changeRules("RevokeSecurityGroup\(direction)", groupId: group, rules: Array(have.subtracting(want)))
        try await ec2(c).changeRules("AuthorizeSecurityGroup\(direction)", groupId: group, rules: Array(want.subtracting(have)))
    }

    func createEndpoint(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let token = try journal?.begin(deployment: c.deployment, component: d.key, planID: c.planID) ?? UUID().uuidString
        let ec2 = ec2(c)
        let id = try await ec2.createVpcEndpoint(vpcId: d.string(.vpc)!, serviceName: d.string(.serviceName)!, subnetIds: d.strings(.subnets),
                                                 groupIds: d.strings(.securityGroups), privateDns: d.bool(.privateDns) ?? true,
                                                 clientToken: token, tags: d.tags)
        try await waitForEndpoint(id, c)
        return id
    }

    func waitForEndpoint(_ id: String, _ c: StepContext) async throws {
        let ec2 = ec2(c)
        try await waiter.wait("endpoint \(id) to become available", deadline: waiter.deadlines.endpointAvailable, service: "ec2", operation: "DescribeVpcEndpoints", region: c.region) { () async throws(AWSError) -> Bool in
            let state = try await ec2.vpcEndpoints([], ids: [id]).first?.state ?? "pending"
            if state == "failed" || state == "rejected" {
                throw AWSError(kind: .service, code: "EndpointFailed", message: "endpoint \(id) is \(state)", service: "ec2", operation: "CreateVpcEndpoint", region: c.region)
            }
            return state == "available"
        }
    }

    func updateEndpoint(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        let wantSubnets = Set(d.strings(.subnets)), haveSubnets = Set(r.strings(.subnets))
        let wantGroups = Set(d.strings(.securityGroups)), haveGroups = Set(r.strings(.securityGroups))
        try await ec2(c).modifyVpcEndpoint(
            r.id,
            addSubnets: changed.contains(.subnets) ? Array(wantSubnets.subtracting(haveSubnets)).sorted() : [],
            removeSubnets: changed.contains(.subnets) ? Array(haveSubnets.subtracting(wantSubnets)).sorted() : [],
            addGroups: changed.contains(.securityGroups) ? Array(wantGroups.subtracting(haveGroups)).sorted() : [],
            removeGroups: changed.contains(.securityGroups) ? Array(haveGroups.subtracting(wantGroups)).sorted() : [],
            privateDns: changed.contains(.privateDns) ? d.bool(.privateDns) : nil)
        if changed.contains(.subnets) { try await waitForEndpoint(r.id, c) }
    }

    func deleteEndpoint(_ r: ObservedResource, _ c: StepContext) async throws {
        let ec2 = ec2(c)
        if try await absent({ () async throws(AWSError) in try await ec2.deleteVpcEndpoints([r.id]) }) { return }
        // Deleted endpoints linger in state `deleted`; wait until then, when their network interfaces are going.
        try await waiter.wait("endpoint \(r.id) to be deleted", deadline: waiter.deadlines.endpointDeleted, service: "ec2", operation: "DescribeVpcEndpoints", region: c.region) { () async throws(AWSError) -> Bool in
            let state = try await endpointState(r.id, c)
            return state == nil || state == "deleted"
        }
    }
}
