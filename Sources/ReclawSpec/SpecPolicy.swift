import Foundation

/// What the operator allows specs to ask for, beyond what the spec format allows: a spec comes from
/// git, and whoever can push must not be able to undo least privilege (attach
/// `AdministratorAccess` to the instance role, say).
public struct SpecPolicy: Sendable, Hashable {
    /// The managed policies a spec may attach to its instance role, as names (AWS managed
    /// policies) or policy ARNs. Default: the seed's two.
    public var allowedManagedPolicies: [String]

    public init(allowedManagedPolicies: [String] = SpecDefaults.managedPolicies) {
        self.allowedManagedPolicies = allowedManagedPolicies
    }

    /// Whether a spec's `managedPolicies` item is allowed. A name and the ARN of the AWS managed
    /// policy of that name are the same policy, in any partition.
    public func allowsManagedPolicy(_ item: String) -> Bool {
        let key = Self.policyKey(item)
        return allowedManagedPolicies.contains { Self.policyKey($0) == key }
    }

    /// `(account, path/name)`: `aws` for AWS managed policies; the partition is left out.
    static func policyKey(_ text: String) -> String {
        guard text.hasPrefix("arn:") else { return "aws:" + text }
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[2] == "iam", parts[5].hasPrefix("policy/") else { return text }
        var name = parts[5].dropFirst("policy/".count)
        // AWS managed policies are found by name whatever their path (service-role/...); so are
        // names given without one.
        if parts[4] == "aws", let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        return "\(parts[4]):\(name)"
    }

    /// Whether `text` is a managed policy name or policy ARN at all (for option checking).
    public static func isManagedPolicyReference(_ text: String) -> Bool {
        SpecValidator.fullMatch(text, SpecSchema.managedPolicyPattern)
    }
}
