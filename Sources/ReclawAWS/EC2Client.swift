/// The EC2 calls reclaw makes, typed. Describe calls page through NextToken; create calls carry
/// their tags (TagSpecifications) so a resource is never untagged, even for a moment.
public struct EC2Client: Sendable {
    public let client: AWSClient
    public let region: String
    public let context: AWSCallContext

    /// MaxResults for Describe calls (nil: let EC2 decide, which returns everything for most calls).
    public var pageSize: Int?

    public init(client: AWSClient, region: String, context: AWSCallContext = AWSCallContext(), pageSize: Int? = nil) {
        self.client = client
        self.region = region
        self.context = context
        self.pageSize = pageSize
    }

    public typealias Filter = (name: String, values: [String])

    func call(_ action: String, _ params: QueryParams = QueryParams()) async throws(AWSError) -> XMLElement {
        try await client.query(.ec2, action, region: region, params, context: context)
    }

    /// All pages of a Describe call, as the items of `listName`. `largestPage`: the most items the
    /// action returns a call, asked for when `pageSize` is not set (where EC2's default page is smaller).
    func describe(_ action: String, listName: String, filters: [Filter], extra: QueryParams = QueryParams(),
                  largestPage: Int? = nil) async throws(AWSError) -> [XMLElement] {
        var items: [XMLElement] = []
        var token: String?
        repeat {
            var p = extra
            p.addFilters(filters)
            p.add("MaxResults", pageSize ?? largestPage)
            p.add("NextToken", token)
            let r = try await call(action, p)
            items += r.list(listName)
            token = r.string("nextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return items
    }

    // MARK: describe

    public func vpcs(_ filters: [Filter]) async throws(AWSError) -> [EC2.Vpc] {
        try await describe("DescribeVpcs", listName: "vpcSet", filters: filters, as: EC2.Vpc.init)
    }

    public func subnets(_ filters: [Filter]) async throws(AWSError) -> [EC2.Subnet] {
        try await describe("DescribeSubnets", listName: "subnetSet", filters: filters, as: EC2.Subnet.init)
    }

    public func internetGateways(_ filters: [Filter]) async throws(AWSError) -> [EC2.InternetGateway] {
        try await describe("DescribeInternetGateways", listName: "internetGatewaySet", filters: filters, as: EC2.InternetGateway.init)
    }

    public func routeTables(_ filters: [Filter]) async throws(AWSError) -> [EC2.RouteTable] {
        try await describe("DescribeRouteTables", listName: "routeTableSet", filters: filters, as: EC2.RouteTable.init)
    }

    public func securityGroups(_ filters: [Filter]) async throws(AWSError) -> [EC2.SecurityGroup] {
        try await describe("DescribeSecurityGroups", listName: "securityGroupInfo", filters: filters, as: EC2.SecurityGroup.init)
    }

    public func vpcEndpoints(_ filters: [Filter], ids: [String] = []) async throws(AWSError) -> [EC2.VpcEndpoint] {
        var extra = QueryParams()
        extra.addList("VpcEndpointId", ids)
        return try await describe("DescribeVpcEndpoints", listName: "vpcEndpointSet", filters: filters, extra: extra, as: EC2.VpcEndpoint.init)
    }

    public func instances(_ filters: [Filter]) async throws(AWSError) -> [EC2.Instance] {
        let reservations = try await describe("DescribeInstances", listName: "reservationSet", filters: filters, largestPage: 1000)
        return identified(reservations.flatMap { $0.list("instancesSet") }, "DescribeInstances", EC2.Instance.init)
    }

    public func volumes(_ filters: [Filter]) async throws(AWSError) -> [EC2.Volume] {
        try await describe("DescribeVolumes", listName: "volumeSet", filters: filters, as: EC2.Volume.init)
    }

    public func images(ids: [String]) async throws(AWSError) -> [EC2.Image] {
        guard !ids.isEmpty else { return [] }
        var p = QueryParams()
        p.addList("ImageId", ids)
        return identified(try await call("DescribeImages", p).list("imagesSet"), "DescribeImages", EC2.Image.init)
    }

    /// One attribute of one VPC (`enableDnsSupport` or `enableDnsHostnames`): EC2 answers one per call.
    public func vpcAttribute(_ vpcId: String, _ attribute: String) async throws(AWSError) -> Bool {
        let r = try await call("DescribeVpcAttribute", ["VpcId": vpcId, "Attribute": attribute])
        guard let value = r.at(attribute, "value")?.text else {
            throw AWSError(kind: .service, code: "MalformedResponse", message: "DescribeVpcAttribute of \(vpcId) did not return \(attribute)",
                           service: "ec2", operation: "DescribeVpcAttribute", region: region)
        }
        return value == "true"
    }

    /// The instance profile associations of the given instances (or all of the region).
    public func instanceProfileAssociations(instanceIds: [String]) async throws(AWSError) -> [EC2.InstanceProfileAssociation] {
        try await describe("DescribeIamInstanceProfileAssociations", listName: "iamInstanceProfileAssociationSet",
                           filters: instanceIds.isEmpty ? [] : [("instance-id", instanceIds)], as: EC2.InstanceProfileAssociation.init)
    }

    public func networkInterfaces(_ filters: [Filter]) async throws(AWSError) -> [EC2.NetworkInterface] {
        try await describe("DescribeNetworkInterfaces", listName: "networkInterfaceSet", filters: filters, as: EC2.NetworkInterface.init)
    }

    // MARK: VPC, subnets, gateway, routes

    public func createVpc(cidr: String, tags: [String: String]) async throws(AWSError) -> String {
        var p = QueryParams()
        p.add("CidrBlock", cidr)
        p.addTagSpecification(["vpc"], tags: tags)
        return try await created("CreateVpc", p, at: "vpc", "vpcId")
    }

    /// Sets one VPC attribute (EnableDnsSupport or EnableDnsHostnames); EC2 takes one per call.
    public func modifyVpcAttribute(_ vpcId: String, _ attribute: String, _ value: Bool) async throws(AWSError) {
        var p = QueryParams()
        p.add("VpcId", vpcId)
        p.add("\(attribute).Value", value)
        _ = try await call("ModifyVpcAttribute", p)
    }

    public func createSubnet(vpcId: String, cidr: String, zone: String, tags: [String: String]) async throws(AWSError) -> String {
        var p = QueryParams()
        p.add("VpcId", vpcId)
        p.add("CidrBlock", cidr)
        p.add("AvailabilityZone", zone)
        p.addTagSpecification(["subnet"], tags: tags)
        return try await created("CreateSubnet", p, at: "subnet", "subnetId")
    }

    public func modifySubnetMapPublicIp(_ subnetId: String, _ value: Bool) async throws(AWSError) {
        var p = QueryParams()
        p.add("SubnetId", subnetId)
        p.add("MapPublicIpOnLaunch.Value", value)
        _ = try await call("ModifySubnetAttribute", p)
    }

    public func createInternetGateway(tags: [String: String]) async throws(AWSError) -> String {
        var p = QueryParams()
        p.addTagSpecification(["internet-gateway"], tags: tags)
        return try await created("CreateInternetGateway", p, at: "internetGateway", "internetGatewayId")
    }

    public func attachInternetGateway(_ id: String, vpcId: String) async throws(AWSError) {
        _ = try await call("AttachInternetGateway", ["InternetGatewayId": id, "VpcId": vpcId])
    }

    public func detachInternetGateway(_ id: String, vpcId: String) async throws(AWSError) {
        _ = try await call("DetachInternetGateway", ["InternetGatewayId": id, "VpcId": vpcId])
    }

    public func createRouteTable(vpcId: String, tags: [String: String]) async throws(AWSError) -> String {
        var p = QueryParams()
        p.add("VpcId", vpcId)
        p.addTagSpecification(["route-table"], tags: tags)
        return try await created("CreateRouteTable", p, at: "routeTable", "routeTableId")
    }

    public func createRoute(tableId: String, destination: String, gatewayId: String) async throws(AWSError) {
        _ = try await call("CreateRoute", ["RouteTableId": tableId, "DestinationCidrBlock": destination, "GatewayId": gatewayId])
    }

    public func replaceRoute(tableId: String, destination: String, gatewayId: String) async throws(AWSError) {
        _ = try await call("ReplaceRoute", ["RouteTableId": tableId, "DestinationCidrBlock": destination, "GatewayId": gatewayId])
    }

    public func deleteRoute(tableId: String, destination: String) async throws(AWSError) {
        _ = try await call("DeleteRoute", ["RouteTableId": tableId, "DestinationCidrBlock": destination])
    }

    public func associateRouteTable(tableId: String, subnetId: String) async throws(AWSError) -> String {
        try await created("AssociateRouteTable", ["RouteTableId": tableId, "SubnetId": subnetId], at: "associationId")
    }

    /// Moves a subnet's association (or the main one) to another table; returns the new association id.
    public func replaceRouteTableAssociation(associationId: String, tableId: String) async throws(AWSError) -> String {
        try await created("ReplaceRouteTableAssociation", ["AssociationId": associationId, "RouteTableId": tableId], at: "newAssociationId")
    }

    public func disassociateRouteTable(associationId: String) async throws(AWSError) {
        _ = try await call("DisassociateRouteTable", ["AssociationId": associationId])
    }

    // MARK: security groups

    public func createSecurityGroup(name: String, description: String, vpcId: String, tags: [String: String]) async throws(AWSError) -> String {
        var p = QueryParams()
        p.add("GroupName", name)
        p.add("GroupDescription", description)
        p.add("VpcId", vpcId)
        p.addTagSpecification(["security-group"], tags: tags)
        return try await created("CreateSecurityGroup", p, at: "groupId")
    }

    /// Authorizes or revokes rules: `action` is AuthorizeSecurityGroupIngress/Egress or RevokeSecurityGroupIngress/Egress.
    public func changeRules(_ action: String, groupId: String, rules: [EC2.Rule]) async throws(AWSError) {
        guard !rules.isEmpty else { return }
        var p = QueryParams()
        p.add("GroupId", groupId)
        for (i, rule) in rules.sorted().enumerated() {
            let prefix = "IpPermissions.\(i + 1)"
            p.add("\(prefix).IpProtocol", rule.protocolName == "all" ? "-1" : rule.protocolName)
            p.add("\(prefix).FromPort", rule.fromPort)
            p.add("\(prefix).ToPort", rule.toPort)
            if rule.isGroupPeer {
                p.add("\(prefix).Groups.1.GroupId", rule.peer)
            } else {
                p.add("\(prefix).IpRanges.1.CidrIp", rule.peer)
            }
        }
        _ = try await call(action, p)
    }

    // MARK: endpoints

    public func createVpcEndpoint(vpcId: String, serviceName: String, subnetIds: [String], groupIds: [String], privateDns: Bool,
                                  clientToken: String, tags: [String: String]) async throws(AWSError) -> String {
        var p = QueryParams()
        p.add("VpcId", vpcId)
        p.add("ServiceName", serviceName)
        p.add("VpcEndpointType", "Interface")
        p.add("PrivateDnsEnabled", privateDns)
        p.addList("SubnetId", subnetIds)
        p.addList("SecurityGroupId", groupIds)
        p.add("ClientToken", clientToken)
        p.addTagSpecification(["vpc-endpoint"], tags: tags)
        return try await created("CreateVpcEndpoint", p, at: "vpcEndpoint", "vpcEndpointId")
    }

    public func modifyVpcEndpoint(_ id: String, addSubnets: [String] = [], removeSubnets: [String] = [], addGroups: [String] = [],
                                  removeGroups: [String] = [], privateDns: Bool? = nil) async throws(AWSError) {
        var p = QueryParams()
        p.add("VpcEndpointId", id)
        p.addList("AddSubnetId", addSubnets)
        p.addList("RemoveSubnetId", removeSubnets)
        p.addList("AddSecurityGroupId", addGroups)
        p.addList("RemoveSecurityGroupId", removeGroups)
        p.add("PrivateDnsEnabled", privateDns)
        _ = try await call("ModifyVpcEndpoint", p)
    }

    public func deleteVpcEndpoints(_ ids: [String]) async throws(AWSError) {
        var p = QueryParams()
        p.addList("VpcEndpointId", ids)
        let r = try await call("DeleteVpcEndpoints", p)
        if let failed = r.list("unsuccessful").first, let error = failed.child("error") {
            throw AWSError(kind: .service, code: error.string("code") ?? "Unsuccessful", message: error.string("message") ?? "",
                           service: "ec2", operation: "DeleteVpcEndpoints", region: region)
        }
    }
}
