import Foundation

/// What reclaw knows about EC2 instance types: their CPU architecture, from the family's name.
public enum InstanceTypes {
    public enum Architecture: String, Sendable {
        case arm64, amd64

        /// EC2's name for the architecture (DescribeImages' `architecture`).
        public var ec2Name: String { self == .arm64 ? "arm64" : "x86_64" }
    }

    /// arm64 for Graviton families (a1, and every family whose suffix after the generation has a
    /// `g`: t4g, c7g, m7gd, c6gn, im4gn, x2gd, hpc7g…); amd64 otherwise.
    public static func architecture(of type: String) -> Architecture {
        let family = type.split(separator: ".").first.map(String.init) ?? type
        let base = family.split(separator: "-").first.map(String.init) ?? family
        if base == "a1" { return .arm64 }
        guard let digit = base.firstIndex(where: \.isNumber) else { return .amd64 }
        let suffix = base[digit...].drop { $0.isNumber }
        return suffix.contains("g") ? .arm64 : .amd64
    }

    /// Canonical's Ubuntu 24.04 parameter for the type's architecture.
    public static func defaultImage(for type: String) -> String {
        SpecDefaults.imageParameter.replacingOccurrences(of: "{arch}", with: architecture(of: type).rawValue)
    }

    /// The architecture an image reference names, when it says (an `ssm:` path with arm64/amd64).
    public static func architecture(ofImage image: String) -> Architecture? {
        guard image.hasPrefix("ssm:") else { return nil }
        let parts = image.lowercased().split(separator: "/")
        if parts.contains("arm64") || parts.contains("aarch64") { return .arm64 }
        if parts.contains("amd64") || parts.contains("x86_64") { return .amd64 }
        return nil
    }
}
