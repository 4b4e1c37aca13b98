import ReclawEngine
import ReclawJSON

/// The schema of an OpenClaw deployment on AWS, as the engine reads it: the component table of
/// `Components`, the kinds of `Declarations`, the gateway token's convergence and the note on a
/// newer AMI.
public struct AWSSchema: ProviderSchema {
    public init() {}

    public func kind(of key: ComponentKey) -> ResourceKind? { Components.kind(of: key) }

    public func dependencies(of key: ComponentKey) -> [ComponentKey] { Components.dependencies(of: key) }

    public func isGlobal(_ kind: ResourceKind) -> Bool { kind.isGlobal }

    public func rule(_ attribute: String, of kind: ResourceKind) -> AttributeRule {
        Declarations[kind]?.attribute(attribute)?.rule ?? .exact
    }

    public var convergences: [Convergence] {
        // A new gateway token must reach an instance that already runs: it converges to it.
        [Convergence(created: Components.gatewayToken, converging: Components.instance, attribute: AttributeKey.config.rawValue,
                     reason: "the gateway token was recreated; the instance converges to it")]
    }

    public var globalKindsInWords: String { "the IAM role and instance profile" }

    public func comparableTags(_ tags: [String: String]) -> [String: String] { Normalize.comparableTags(tags) }

    public func userTags(_ tags: [String: String]) -> [String: String] { Normalize.userTags(tags) }

    public func notes(_ observed: ObservedDeployment) -> [String] {
        guard let instance = observed[Components.instance], let latest = instance.details["latestImage"]?.stringValue,
              let running = instance.details["imageId"]?.stringValue, latest != running else { return [] }
        let reference = instance.attributes[AttributeKey.image.rawValue]?.stringValue ?? "the image parameter"
        return ["a newer AMI \(latest) is available behind \(reference); the instance keeps \(running) (pin image: \(latest) with policy.allowReplace: true to move to it)"]
    }
}
