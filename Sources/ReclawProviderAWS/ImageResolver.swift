import Foundation
import Logging
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawTime

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
/// architecture and root device never change), so each is described once a day (`period`), not
/// once per process: the descriptions are kept in the state directory with the other caches.
/// Bounded: past `limit`, those described longest ago are dropped.
actor ImageCache {
    struct Described: Codable {
        var image: EC2.Image
        var at: Date
    }

    static let period: Duration = .seconds(24 * 3600)
    let limit = 512
    let file: CacheFile<[String: Described]>
    let now: @Sendable () -> Date
    private var images: [String: Described] = [:]
    private var loaded = false

    init(path: String? = nil, logger: Logger = Logger(label: "reclaw.cache"), now: @escaping @Sendable () -> Date = { Clocks.date() }) {
        file = CacheFile(path: path, holding: "image descriptions", logger: logger)
        self.now = now
    }

    func image(_ id: String, region: String) -> EC2.Image? {
        load()
        guard let d = images["\(region)/\(id)"], now().timeIntervalSince(d.at) < Self.period.inSeconds else { return nil }
        return d.image
    }

    func store(_ image: EC2.Image, region: String) {
        load()
        images["\(region)/\(image.id)"] = Described(image: image, at: now())
        images.keepNewest(limit) { $0.at }
        file.write(images)
    }

    private func load() {
        guard !loaded else { return }
        loaded = true
        images = file.read() ?? [:]
    }
}
