/// EC2 resources as reclaw observes them (only the fields it manages or needs).
public enum EC2 {
    public struct Vpc: Sendable, Hashable {
        public var id: String
        public var cidrBlock: String
        public var state: String
        public var tags: [String: String]
    }

    public struct Subnet: Sendable, Hashable {
        public var id: String
        public var vpcId: String
        public var cidrBlock: String
        public var availabilityZone: String
        public var mapPublicIpOnLaunch: Bool
        public var tags: [String: String]
    }

    public struct InternetGateway: Sendable, Hashable {
        public var id: String
        /// VPC ids it is attached to (state attached or available).
        public var attachedVpcs: [String]
        public var tags: [String: String]
    }

    public struct Route: Sendable, Hashable {
        public var destination: String
        public var gatewayId: String?
        public var state: String
    }

    public struct RouteTableAssociation: Sendable, Hashable {
        public var id: String
        public var subnetId: String?
        public var main: Bool
    }

    public struct RouteTable: Sendable, Hashable {
        public var id: String
        public var vpcId: String
        public var routes: [Route]
        public var associations: [RouteTableAssociation]
        public var tags: [String: String]
    }

    /// One security group rule in a normalized, comparable form.
    public struct Rule: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var protocolName: String
        public var fromPort: Int?
        public var toPort: Int?
        /// A CIDR or a security group id.
        public var peer: String

        public init(protocolName: String, fromPort: Int?, toPort: Int?, peer: String) {
            self.protocolName = protocolName == "-1" ? "all" : protocolName
            self.fromPort = self.protocolName == "all" ? nil : fromPort
            self.toPort = self.protocolName == "all" ? nil : toPort
            self.peer = peer
        }

        public var isGroupPeer: Bool { peer.hasPrefix("sg-") }

        public var description: String {
            let ports = fromPort.map { f in toPort.map { $0 == f ? "\(f)" : "\(f)-\($0)" } ?? "\(f)" } ?? "all"
            return "\(protocolName)/\(ports) \(isGroupPeer ? "from" : "cidr") \(peer)"
        }

        public static func < (a: Rule, b: Rule) -> Bool { a.description < b.description }
    }

    public struct SecurityGroup: Sendable, Hashable {
        public var id: String
        public var name: String
        public var description: String
        public var vpcId: String
        public var ingress: Set<Rule>
        public var egress: Set<Rule>
        public var tags: [String: String]
    }

    public struct VpcEndpoint: Sendable, Hashable {
        public var id: String
        public var vpcId: String
        public var serviceName: String
        public var type: String
        public var state: String
        public var privateDnsEnabled: Bool
        public var subnetIds: [String]
        public var groupIds: [String]
        public var tags: [String: String]
    }

    public struct Instance: Sendable, Hashable {
        public var id: String
        public var state: String
        public var type: String
        public var imageId: String
        public var subnetId: String?
        public var vpcId: String?
        public var securityGroupIds: [String]
        public var instanceProfileArn: String?
        public var httpTokens: String?
        public var publicIp: String?
        public var keyName: String?
        public var rootDeviceName: String?
        /// Device name → volume id.
        public var volumes: [String: String]
        public var clientToken: String?
        public var tags: [String: String]
    }

    public struct Volume: Sendable, Hashable {
        public var id: String
        public var size: Int
        public var type: String
        public var encrypted: Bool
        public var state: String
        public var instanceId: String?
        public var device: String?
        public var tags: [String: String]
    }

    public struct Image: Sendable, Hashable, Codable {
        public var id: String
        public var architecture: String
        public var name: String
        public var rootDeviceName: String
        public var creationDate: String

        public init(id: String, architecture: String, name: String, rootDeviceName: String, creationDate: String) {
            self.id = id
            self.architecture = architecture
            self.name = name
            self.rootDeviceName = rootDeviceName
            self.creationDate = creationDate
        }
    }

    /// Which instance profile an instance uses, through which association.
    public struct InstanceProfileAssociation: Sendable, Hashable {
        public var id: String
        public var instanceId: String
        public var profileArn: String?
        /// associating, associated, disassociating or disassociated.
        public var state: String
    }

    public struct NetworkInterface: Sendable, Hashable {
        public var id: String
        public var vpcId: String
        public var subnetId: String
        public var status: String
        public var groupIds: [String]
    }
}

extension EC2.Vpc {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("vpcId") else { return nil }
        self.init(id: id, cidrBlock: x.string("cidrBlock") ?? "", state: x.string("state") ?? "", tags: x.tags())
    }
}

extension EC2.Subnet {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("subnetId") else { return nil }
        self.init(id: id, vpcId: x.string("vpcId") ?? "", cidrBlock: x.string("cidrBlock") ?? "",
                  availabilityZone: x.string("availabilityZone") ?? "", mapPublicIpOnLaunch: x.bool("mapPublicIpOnLaunch") ?? false,
                  tags: x.tags())
    }
}

extension EC2.InternetGateway {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("internetGatewayId") else { return nil }
        self.init(id: id,
                  attachedVpcs: x.list("attachmentSet").filter { ["attached", "available", "attaching"].contains($0.string("state") ?? "") }.compactMap { $0.string("vpcId") },
                  tags: x.tags())
    }
}

extension EC2.RouteTable {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("routeTableId") else { return nil }
        self.init(id: id, vpcId: x.string("vpcId") ?? "",
                  routes: x.list("routeSet").map { EC2.Route(destination: $0.string("destinationCidrBlock") ?? "", gatewayId: $0.string("gatewayId"), state: $0.string("state") ?? "active") },
                  associations: x.list("associationSet").compactMap { a in
                      a.nonEmpty("routeTableAssociationId").map { EC2.RouteTableAssociation(id: $0, subnetId: a.string("subnetId"), main: a.bool("main") ?? false) }
                  },
                  tags: x.tags())
    }
}

extension EC2.SecurityGroup {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("groupId") else { return nil }
        self.init(id: id, name: x.string("groupName") ?? "", description: x.string("groupDescription") ?? "",
                  vpcId: x.string("vpcId") ?? "", ingress: Self.rules(x.list("ipPermissions")), egress: Self.rules(x.list("ipPermissionsEgress")),
                  tags: x.tags())
    }

    static func rules(_ permissions: [XMLElement]) -> Set<EC2.Rule> {
        var out = Set<EC2.Rule>()
        for p in permissions {
            let proto = p.string("ipProtocol") ?? "-1"
            let from = p.int("fromPort"), to = p.int("toPort")
            for r in p.list("ipRanges") { if let c = r.string("cidrIp") { out.insert(EC2.Rule(protocolName: proto, fromPort: from, toPort: to, peer: c)) } }
            for g in p.list("groups") { if let id = g.string("groupId") { out.insert(EC2.Rule(protocolName: proto, fromPort: from, toPort: to, peer: id)) } }
        }
        return out
    }
}

extension EC2.VpcEndpoint {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("vpcEndpointId") else { return nil }
        self.init(id: id, vpcId: x.string("vpcId") ?? "", serviceName: x.string("serviceName") ?? "",
                  type: x.string("vpcEndpointType") ?? "", state: (x.string("state") ?? "").lowercased(),
                  privateDnsEnabled: x.bool("privateDnsEnabled") ?? false,
                  subnetIds: x.list("subnetIdSet").map(\.text), groupIds: x.list("groupSet").compactMap { $0.string("groupId") },
                  tags: x.tags())
    }
}

extension EC2.Instance {
    init?(_ x: XMLElement) {
        var volumes: [String: String] = [:]
        for m in x.list("blockDeviceMapping") {
            if let d = m.string("deviceName"), let v = m.at("ebs", "volumeId")?.text { volumes[d] = v }
        }
        guard let id = x.nonEmpty("instanceId") else { return nil }
        self.init(id: id, state: x.at("instanceState", "name")?.text ?? "", type: x.string("instanceType") ?? "",
                  imageId: x.string("imageId") ?? "", subnetId: x.string("subnetId"), vpcId: x.string("vpcId"),
                  securityGroupIds: x.list("groupSet").compactMap { $0.string("groupId") },
                  instanceProfileArn: x.at("iamInstanceProfile", "arn")?.text, httpTokens: x.at("metadataOptions", "httpTokens")?.text,
                  publicIp: x.string("ipAddress"), keyName: x.string("keyName"), rootDeviceName: x.string("rootDeviceName"),
                  volumes: volumes, clientToken: x.string("clientToken"), tags: x.tags())
    }
}

extension EC2.Volume {
    init?(_ x: XMLElement) {
        let attachment = x.list("attachmentSet").first
        guard let id = x.nonEmpty("volumeId") else { return nil }
        self.init(id: id, size: x.int("size") ?? 0, type: x.string("volumeType") ?? "",
                  encrypted: x.bool("encrypted") ?? false, state: x.string("status") ?? "",
                  instanceId: attachment?.string("instanceId"), device: attachment?.string("device"), tags: x.tags())
    }
}

extension EC2.Image {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("imageId") else { return nil }
        self.init(id: id, architecture: x.string("architecture") ?? "", name: x.string("name") ?? "",
                  rootDeviceName: x.string("rootDeviceName") ?? "/dev/sda1", creationDate: x.string("creationDate") ?? "")
    }
}

extension EC2.NetworkInterface {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("networkInterfaceId") else { return nil }
        self.init(id: id, vpcId: x.string("vpcId") ?? "", subnetId: x.string("subnetId") ?? "",
                  status: x.string("status") ?? "", groupIds: x.list("groupSet").compactMap { $0.string("groupId") })
    }
}

extension EC2.InstanceProfileAssociation {
    init?(_ x: XMLElement) {
        guard let id = x.nonEmpty("associationId") else { return nil }
        self.init(id: id, instanceId: x.string("instanceId") ?? "",
                  profileArn: x.at("iamInstanceProfile", "arn")?.text, state: x.string("state") ?? "")
    }
}

extension EC2 {
    /// The id of the instance a RunInstances response launched; a response without one is an error.
    static func launchedInstanceID(_ response: XMLElement, region: String) throws(AWSError) -> String {
        guard let id = response.list("instancesSet").first?.nonEmpty("instanceId") else {
            throw AWSError.malformedResponse(missing: "instancesSet.item.instanceId", service: "ec2", operation: "RunInstances",
                                             region: region, requestID: response.requestID)
        }
        return id
    }
}

extension XMLElement {
    /// The text of a child when present and not empty.
    func nonEmpty(_ name: String) -> String? { string(name).flatMap { $0.isEmpty ? nil : $0 } }
}
