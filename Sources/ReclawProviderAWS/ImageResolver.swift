import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// Resolves an instance's image reference (`ssm:/…` or an AMI id) to the AMI a launch would use,
/// with its architecture and root device. Done while planning, so the plan shows the AMI and the
/// launch itself needs no extra round trips.
struct ImageResolver {
    let client: AWSClient
    let region: String
    let context: AWSCallContext
    let cache: ImageCache

    /// `aliases`: the AMI behind each `ssm:` reference, already read with the observation; a
    /// reference missing from it is read on its own.
    func resolve(_ reference: String, aliases: [String: String] = [:]) async throws(AWSError) -> EC2.Image {
        let id: String
        if !reference.hasPrefix("ssm:") {
            id = reference
        } else if let known = aliases[reference] {
            id = known
        } else {
            id = try await SSMClient(client: client, region: region, context: context).parameterValue(String(reference.dropFirst(4)))
        }
        if let image = await cache.image(id, region: region) { return image }
        guard let image = try await EC2Client(client: client, region: region, context: context).images(ids: [id]).first else {
            throw AWSError(kind: .service, code: "InvalidAMIID.NotFound", message: "image \(id) (from \(reference)) does not exist in \(region)",
                           service: "ec2", operation: "DescribeImages", region: region)
        }
        await cache.store(image, region: region)
        return image
    }

    /// The desired graph with the resolved image recorded on the instance (set at launch only).
    static func recording(_ image: EC2.Image, in graph: DesiredGraph) -> DesiredGraph {
        var graph = graph
        guard let i = graph.components.firstIndex(where: { $0.key == Components.instance }) else { return graph }
        graph.components[i][.imageId] = DesiredAttribute(.string(image.id), .createOnly)
        graph.components[i][.imageArchitecture] = DesiredAttribute(.string(image.architecture), .createOnly)
        graph.components[i][.rootDeviceName] = DesiredAttribute(.string(image.rootDeviceName), .createOnly)
        return graph
    }
}

/// AMIs described so far, by region and id: an AMI id always names the same image (its
/// architecture and root device never change), so each is described once per process. Bounded:
/// the oldest half is dropped past `limit`.
actor ImageCache {
    private var images: [String: EC2.Image] = [:]
    private var order: [String] = []
    let limit = 512

    func image(_ id: String, region: String) -> EC2.Image? { images["\(region)/\(id)"] }

    func store(_ image: EC2.Image, region: String) {
        let key = "\(region)/\(image.id)"
        if images.updateValue(image, forKey: key) == nil { order.append(key) }
        if order.count > limit {
            for old in order.prefix(limit / 2) { images[old] = nil }
            order.removeFirst(limit / 2)
        }
    }
}
