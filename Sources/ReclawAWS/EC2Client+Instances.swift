/// EC2 instances and volumes, deletion and tags.
extension EC2Client {
    // MARK: instances and volumes

    /// Launch parameters of the deployment's instance.
    public struct Launch: Sendable {
        public var imageId: String
        public var instanceType: String
        public var subnetId: String
        public var securityGroupIds: [String]
        public var instanceProfileName: String
        public var rootDeviceName: String
        public var rootVolumeGiB: Int
        public var keyName: String?
        public var userData: String
        public var clientToken: String
        public var tags: [String: String]
        public var volumeTags: [String: String]

        public init(imageId: String, instanceType: String, subnetId: String, securityGroupIds: [String], instanceProfileName: String,
                    rootDeviceName: String, rootVolumeGiB: Int, keyName: String?, userData: String, clientToken: String,
                    tags: [String: String], volumeTags: [String: String]) {
            self.imageId = imageId
            self.instanceType = instanceType
            self.subnetId = subnetId
            self.securityGroupIds = securityGroupIds
            self.instanceProfileName = instanceProfileName
            self.rootDeviceName = rootDeviceName
            self.rootVolumeGiB = rootVolumeGiB
            self.keyName = keyName
            self.userData = userData
            self.clientToken = clientToken
            self.tags = tags
            self.volumeTags = volumeTags
        }
    }

    /// RunInstances with a ClientToken (idempotent in AWS), IMDSv2 required, an encrypted gp3 root
    /// volume, in the given subnet (whose MapPublicIpOnLaunch gives it a public IP), and tags on the
    /// instance and its volume.
    public func runInstance(_ l: Launch) async throws(AWSError) -> String {
        var p = QueryParams()
        p.add("ImageId", l.imageId)
        p.add("InstanceType", l.instanceType)
        p.add("MinCount", 1)
        p.add("MaxCount", 1)
        p.add("ClientToken", l.clientToken)
        p.add("KeyName", l.keyName)
        p.add("UserData", l.userData)
        p.add("IamInstanceProfile.Name", l.instanceProfileName)
        p.add("MetadataOptions.HttpTokens", "required")
        p.add("MetadataOptions.HttpEndpoint", "enabled")
        p.add("SubnetId", l.subnetId)
        p.addList("SecurityGroupId", l.securityGroupIds)
        p.add("BlockDeviceMapping.1.DeviceName", l.rootDeviceName)
        p.add("BlockDeviceMapping.1.Ebs.VolumeSize", l.rootVolumeGiB)
        p.add("BlockDeviceMapping.1.Ebs.VolumeType", "gp3")
        p.add("BlockDeviceMapping.1.Ebs.Encrypted", true)
        p.add("BlockDeviceMapping.1.Ebs.DeleteOnTermination", true)
        var i = 0
        for (type, tags) in [("instance", l.tags), ("volume", l.volumeTags)] {
            i += 1
            p.add("TagSpecification.\(i).ResourceType", type)
            for (j, (k, v)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
                p.add("TagSpecification.\(i).Tag.\(j + 1).Key", k)
                p.add("TagSpecification.\(i).Tag.\(j + 1).Value", v)
            }
        }
        return try EC2.launchedInstanceID(try await call("RunInstances", p), region: region)
    }

    public func instanceAction(_ action: String, _ id: String) async throws(AWSError) {
        var p = QueryParams()
        p.addList("InstanceId", [id])
        _ = try await call(action, p)
    }

    public func modifyInstanceType(_ id: String, type: String) async throws(AWSError) {
        _ = try await call("ModifyInstanceAttribute", ["InstanceId": id, "InstanceType.Value": type])
    }

    public func modifyVolumeSize(_ id: String, size: Int) async throws(AWSError) {
        _ = try await call("ModifyVolume", ["VolumeId": id, "Size": String(size)])
    }

    public func modifyVolumeType(_ id: String, type: String) async throws(AWSError) {
        _ = try await call("ModifyVolume", ["VolumeId": id, "VolumeType": type])
    }

    /// Gives an instance that has none an instance profile; returns the association id.
    public func associateInstanceProfile(instanceId: String, profileName: String) async throws(AWSError) -> String {
        try await created("AssociateIamInstanceProfile", ["InstanceId": instanceId, "IamInstanceProfile.Name": profileName],
                          at: "iamInstanceProfileAssociation", "associationId")
    }

    /// Swaps the profile of an existing association in place (the instance keeps running).
    public func replaceInstanceProfileAssociation(_ associationId: String, profileName: String) async throws(AWSError) -> String {
        try await created("ReplaceIamInstanceProfileAssociation", ["AssociationId": associationId, "IamInstanceProfile.Name": profileName],
                          at: "iamInstanceProfileAssociation", "associationId")
    }

    // MARK: deletion and tags

    /// Deletes a resource by its Delete call and id parameter (DeleteVpc/VpcId, DeleteSubnet/SubnetId, ...).
    public func delete(_ action: String, _ idParameter: String, _ id: String) async throws(AWSError) {
        _ = try await call(action, [idParameter: id])
    }

    public func createTags(_ ids: [String], _ tags: [String: String]) async throws(AWSError) {
        guard !tags.isEmpty, !ids.isEmpty else { return }
        var p = QueryParams()
        p.addList("ResourceId", ids)
        for (i, (k, v)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            p.add("Tag.\(i + 1).Key", k)
            p.add("Tag.\(i + 1).Value", v)
        }
        _ = try await call("CreateTags", p)
    }

    public func deleteTags(_ ids: [String], keys: [String]) async throws(AWSError) {
        guard !keys.isEmpty, !ids.isEmpty else { return }
        var p = QueryParams()
        p.addList("ResourceId", ids)
        for (i, k) in keys.sorted().enumerated() { p.add("Tag.\(i + 1).Key", k) }
        _ = try await call("DeleteTags", p)
    }
}
