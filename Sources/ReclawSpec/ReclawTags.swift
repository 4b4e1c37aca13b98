/// The tags reclaw puts on the resources it creates, by kind of resource, and what that leaves of
/// AWS's limit for a spec's own `tags`: the one place the spec's tag limit comes from.
public enum ReclawTags {
    public static let deployment = "reclaw:deployment"
    public static let component = "reclaw:component"
    public static let name = "Name"
    /// The instance's image reference, so the AMI is resolved only once.
    public static let image = "reclaw:image"
    /// The digest of the OpenClaw settings the instance last converged to.
    public static let config = "reclaw:config"

    /// Tags on every resource reclaw creates.
    public static let everywhere = [deployment, component, name]
    /// Tags some kinds of resource carry beyond `everywhere`, by component kind.
    public static let byKind: [String: [String]] = ["instance": [image, config]]

    /// Tags per resource AWS allows (EC2, IAM, SSM alike); `aws:` tags do not count.
    public static let awsLimit = 50

    /// The most tags reclaw itself puts on one resource (the instance's five).
    public static var mostOnOneResource: Int { everywhere.count + (byKind.values.map(\.count).max() ?? 0) }

    /// The most tags a spec may give: every resource must stay within AWS's limit.
    public static var maxSpecTags: Int { awsLimit - mostOnOneResource }
}
