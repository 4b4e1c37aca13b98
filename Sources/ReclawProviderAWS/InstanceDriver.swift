import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec

/// The EC2 instance: launched once (ClientToken from the journal, IMDSv2, encrypted gp3 root),
/// then changed in place: type by stop → modify → start, volume by ModifyVolume, settings by
/// running the converge script through SSM Run Command.
extension AWSDriver {
    func createInstance(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let ec2 = ec2(c)
        let reference = d.string(.image)!
        // The plan normally resolved the image already; resolve it here when it could not.
        let image: EC2.Image
        if let id = d.string(.imageId), let architecture = d.string(.imageArchitecture), let root = d.string(.rootDeviceName) {
            image = EC2.Image(id: id, architecture: architecture, name: "", rootDeviceName: root, creationDate: "")
        } else {
            image = try await ImageResolver(client: client, region: c.region, context: callContext(c), cache: ImageCache()).resolve(reference)
        }
        let imageId = image.id
        let type = d.string(.instanceType)!
        let wanted = InstanceTypes.architecture(of: type).ec2Name
        guard image.architecture == wanted else {
            throw AWSError(kind: .service, code: "ArchitectureMismatch", message: "\(type) runs \(wanted) but image \(imageId) is \(image.architecture)",
                           service: "ec2", operation: "RunInstances", region: c.region)
        }
        var tags = d.tags
        tags[DesiredGraphBuilder.imageTag] = reference
        tags[DesiredGraphBuilder.configTag] = d.string(.config)
        var volumeTags = d.tags
        volumeTags[OwnershipTags.name] = "\(c.deployment)-instance-root"
        let token = try journal?.begin(deployment: c.deployment, component: d.key, planID: c.planID) ?? UUID().uuidString
        let launch = EC2Client.Launch(
            imageId: imageId, instanceType: type, subnetId: d.string(.subnet)!, securityGroupIds: d.strings(.securityGroups),
            instanceProfileName: d.string(.instanceProfile)!, rootDeviceName: image.rootDeviceName, rootVolumeGiB: d.int(.rootVolumeGiB) ?? 30,
            keyName: d.string(.keyName), userData: UserData.encoded(deployment: c.deployment, region: c.region), clientToken: token,
            tags: tags, volumeTags: volumeTags)
        // A new instance profile takes a few seconds to be usable by EC2.
        let id = try await whenProfilePropagated(launch.instanceProfileName) { () async throws(AWSError) -> String in
            try await ec2.runInstance(launch)
        }
        try await waitForInstance(id, states: ["running"], c)
        return id
    }

    func waitForInstance(_ id: String, states: Set<String>, _ c: StepContext) async throws {
        let ec2 = ec2(c)
        try await waiter.wait("instance \(id) to be \(states.sorted().joined(separator: " or "))", deadline: instanceDeadline(states), service: "ec2", operation: "DescribeInstances", region: c.region) { () async throws(AWSError) -> Bool in
            guard let state = try await ec2.instances([("instance-id", [id])]).first?.state else { return states.contains("terminated") }
            return states.contains(state)
        }
    }

    func updateInstance(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        let ec2 = ec2(c)
        if changed.contains(.instanceType), let type = d.string(.instanceType) {
            let wasRunning = r.details["state"]?.stringValue != "stopped"
            try await ec2.instanceAction("StopInstances", r.id)
            try await waitForInstance(r.id, states: ["stopped"], c)
            try await ec2.modifyInstanceType(r.id, type: type)
            if wasRunning {
                try await ec2.instanceAction("StartInstances", r.id)
                try await waitForInstance(r.id, states: ["running"], c)
            }
        }
        if changed.contains(.securityGroups) {
            var p = QueryParams()
            p.add("InstanceId", r.id)
            p.addList("GroupId", d.strings(.securityGroups))
            _ = try await client.query(.ec2, "ModifyInstanceAttribute", region: c.region, p, context: callContext(c))
        }
        if changed.contains(.httpTokens) {
            _ = try await client.query(.ec2, "ModifyInstanceMetadataOptions", region: c.region,
                                       ["InstanceId": r.id, "HttpTokens": d.string(.httpTokens) ?? "required", "HttpEndpoint": "enabled"], context: callContext(c))
        }
        if changed.contains(.instanceProfile), let profile = d.string(.instanceProfile) {
            try await associateProfile(profile, with: r.id, c)
        }
        if changed.contains(.rootVolumeGiB), let size = d.int(.rootVolumeGiB), let volume = r.details["volumeId"]?.stringValue {
            try await ec2.modifyVolumeSize(volume, size: size)
        }
        if changed.contains(.rootVolumeType), let type = d.string(.rootVolumeType), let volume = r.details["volumeId"]?.stringValue {
            // EBS allows one modification per volume at a time: wait out one in progress (a resize just made).
            try await waiter.retrying("ModifyVolume \(volume)", on: ["IncorrectModificationState"]) { () async throws(AWSError) in
                try await ec2.modifyVolumeType(volume, type: type)
            }
        }
        if changed.contains(.config) {
            try await converge(r.id, c)
            try await ec2.createTags([r.id], [DesiredGraphBuilder.configTag: d.string(.config) ?? ""])
        }
    }

    /// Puts the instance's profile back to reclaw's, in place: the association someone replaced is
    /// replaced again (or one is made when the profile was removed), then awaited.
    func associateProfile(_ profile: String, with instance: String, _ c: StepContext) async throws {
        let ec2 = ec2(c)
        let current = try await ec2.instanceProfileAssociations(instanceIds: [instance]).first { ["associated", "associating"].contains($0.state) }
        // A profile made again in this apply is refused until IAM has propagated it.
        let association = try await whenProfilePropagated(profile) { () async throws(AWSError) -> String in
            if let current { return try await ec2.replaceInstanceProfileAssociation(current.id, profileName: profile) }
            return try await ec2.associateInstanceProfile(instanceId: instance, profileName: profile)
        }
        try await waiter.wait("instance profile \(profile) to be associated with \(instance)", service: "ec2",
                              operation: "DescribeIamInstanceProfileAssociations", region: c.region) { () async throws(AWSError) -> Bool in
            let now = try await ec2.instanceProfileAssociations(instanceIds: [instance])
            return now.contains { ($0.id == association || association.isEmpty) && $0.state == "associated" && $0.profileArn?.hasSuffix("/" + profile) == true }
        }
    }

    /// Runs the converge script through SSM Run Command and waits for its result.
    func converge(_ instance: String, _ c: StepContext) async throws {
        let ssm = ssm(c)
        let command = try await sendWhenAgentRegistered(instance, c) { () async throws(AWSError) -> String in
            try await ssm.sendCommand(instanceId: instance, commands: [UserData.convergePath], comment: "reclaw converge \(c.deployment) plan \(c.planID)",
                                      timeoutSeconds: commandTimeouts.delivery, executionTimeoutSeconds: commandTimeouts.execution)
        }
        var last = (status: "Pending", detail: "", output: "")
        try await waiter.wait("command \(command) on \(instance) to finish", deadline: waiter.deadlines.commandCompletion, service: "ssm", operation: "GetCommandInvocation", region: c.region) { () async throws(AWSError) -> Bool in
            do throws(AWSError) {
                last = try await ssm.commandInvocation(commandId: command, instanceId: instance)
            } catch {
                if error.code == "InvocationDoesNotExist" { return false }
                throw error
            }
            return !["Pending", "InProgress", "Delayed"].contains(last.status)
        }
        logger.log(level: last.status == "Success" ? .info : .warning, "converge command \(command) on \(instance) ended \(last.status)",
                   metadata: ["deployment": "\(c.deployment)", "plan.id": "\(c.planID)", "aws.ssm.command_id": "\(command)", "aws.ssm.status": "\(last.status)"])
        guard last.status == "Success" else {
            throw AWSError(kind: .service, code: "ConvergeFailed", message: "the converge script on \(instance) (command \(command)) ended \(last.status) (\(last.detail)): \(last.output.suffix(400))",
                           service: "ssm", operation: "SendCommand", region: c.region, requestID: command)
        }
    }

    func deleteInstance(_ r: ObservedResource, _ c: StepContext) async throws {
        if try await absent({ () async throws(AWSError) in try await ec2(c).instanceAction("TerminateInstances", r.id) }) { return }
        try await waitForInstance(r.id, states: ["terminated"], c)
    }
}
