import ReclawAWS
import ReclawEngine
import ReclawJSON

/// Resolves an instance's image reference (`ssm:/…` or an AMI id) to the AMI a launch would use,
/// with its architecture and root device. Done while planning, so the plan shows the AMI and the
/// launch itself needs no extra round trips.
struct ImageResolver {
    let client: AWSClient
    let region: String
    let context: AWSCallContext

    func resolve(_ reference: String) async throws(AWSError) -> EC2.Image {
        let id = reference.hasPrefix("ssm:")
            ? try await SSMClient(client: client, region: region, context: context).parameterValue(String(reference.dropFirst(4)))
            : reference
        guard let image = try await EC2Client(client: client, region: region, context: context).images(ids: [id]).first else {
            throw AWSError(kind: .service, code: "InvalidAMIID.NotFound", message: "image \(id) (from \(reference)) does not exist in \(region)",
                           service: "ec2", operation: "DescribeImages", region: region)
        }
        return image
    }

    /// The desired graph with the resolved image recorded on the instance (set at launch only).
    static func recording(_ image: EC2.Image, in graph: DesiredGraph) -> DesiredGraph {
        var graph = graph
        guard let i = graph.components.firstIndex(where: { $0.key == Components.instance }) else { return graph }
        graph.components[i].attributes["imageId"] = DesiredAttribute(.string(image.id), .createOnly)
        graph.components[i].attributes["imageArchitecture"] = DesiredAttribute(.string(image.architecture), .createOnly)
        graph.components[i].attributes["rootDeviceName"] = DesiredAttribute(.string(image.rootDeviceName), .createOnly)
        return graph
    }
}
