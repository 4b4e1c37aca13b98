import Foundation
import ReclawYAML

/// The semantic checks of a decoded document: formats, CIDR arithmetic, architecture agreement,
/// AWS's tag limits. Each problem is reported at the value it concerns.
struct SpecValidator {
    var sink: DiagnosticSink
    var policy = SpecPolicy()

    /// Whether `name` is a valid deployment name: only such a name is ever used as a file name,
    /// a resource name or a log value.
    static func isValidName(_ name: String) -> Bool {
        name.utf8.count <= 32 && fullMatch(name, SpecSchema.namePattern)
    }

    mutating func check(_ doc: MarkedValue) {
        if let name = doc.at("metadata.name"), let s = name.string, !Self.isValidName(s) {
            sink.error(name.mark, "invalid-name",
                       "metadata.name \(SafeText.quoted(s)) must be 2 to 32 lowercase letters, digits or dashes, start with a letter and not end with a dash")
        }
        guard let spec = doc["spec"] else { return }
        let region = spec["region"]?.string
        if let r = spec["region"], let s = r.string, !matches(s, SpecSchema.regionPattern) {
            sink.error(r.mark, "invalid-region", "spec.region '\(s)' is not an AWS region name (such as us-east-1)")
        }
        if let roleArn = spec["roleArn"], let s = roleArn.string, !matches(s, SpecSchema.roleArnPattern) {
            sink.error(roleArn.mark, "invalid-role-arn", "spec.roleArn '\(s)' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        }
        checkNetwork(spec["network"], region: region)
        checkInstance(spec["instance"])
        checkOpenClaw(spec["openclaw"])
        checkIAM(spec["iam"], spec: spec)
        checkTags(spec["tags"])
    }

    private mutating func checkNetwork(_ network: MarkedValue?, region: String?) {
        let vpc = cidr(network?["vpcCidr"], "spec.network.vpcCidr", defaultValue: SpecDefaults.vpcCidr)
        if let vpc, let value = network?["vpcCidr"], !(16...28).contains(vpc.prefix) {
            sink.error(value.mark, "vpc-size", "spec.network.vpcCidr \(vpc) is a /\(vpc.prefix); AWS allows VPCs from /16 to /28")
        }
        let publicSubnet = cidr(network?["publicSubnetCidr"], "spec.network.publicSubnetCidr", defaultValue: SpecDefaults.publicSubnetCidr)
        let privateSubnet = cidr(network?["privateSubnetCidr"], "spec.network.privateSubnetCidr", defaultValue: SpecDefaults.privateSubnetCidr)
        for (key, subnet) in [("publicSubnetCidr", publicSubnet), ("privateSubnetCidr", privateSubnet)] {
            guard let subnet, let vpc else { continue }
            let mark = network?[key]?.mark ?? network?["vpcCidr"]?.mark ?? network?.mark ?? SourceMark(line: 1, column: 1)
            if !(16...28).contains(subnet.prefix) {
                sink.error(mark, "subnet-size", "spec.network.\(key) \(subnet) is a /\(subnet.prefix); AWS allows subnets from /16 to /28")
            } else if !vpc.contains(subnet) {
                sink.error(mark, "subnet-outside-vpc", "spec.network.\(key) \(subnet) is not inside the VPC's \(vpc)")
            }
        }
        if let a = publicSubnet, let b = privateSubnet, a.overlaps(b) {
            let mark = network?["privateSubnetCidr"]?.mark ?? network?["publicSubnetCidr"]?.mark ?? network?.mark ?? SourceMark(line: 1, column: 1)
            sink.error(mark, "subnet-overlap", "the private subnet \(b) overlaps the public subnet \(a); they must be disjoint")
        }
        if let zone = network?["availabilityZone"], let z = zone.string {
            if !matches(z, SpecSchema.zonePattern) {
                sink.error(zone.mark, "invalid-zone", "spec.network.availabilityZone '\(z)' is not an availability zone name (such as us-east-1a)")
            } else if let region, !(z.hasPrefix(region) && z.count == region.count + 1) {
                sink.error(zone.mark, "zone-region", "availability zone \(z) is not in region \(region)")
            }
        }
        if let endpoints = network?["vpcEndpoints"]?.array, endpoints.isEmpty, let mark = network?["vpcEndpoints"]?.mark {
            sink.warning(mark, "no-endpoints", "with no VPC endpoints, Bedrock and SSM traffic leaves through the internet gateway")
        }
    }

    private mutating func checkInstance(_ instance: MarkedValue?) {
        let typeValue = instance?["type"]
        let type = typeValue?.string ?? SpecDefaults.instanceType
        if let typeValue, !matches(type, SpecSchema.instanceTypePattern) {
            sink.error(typeValue.mark, "invalid-instance-type", "spec.instance.type '\(type)' is not an instance type (FAMILY.SIZE, such as t4g.medium)")
        }
        if let image = instance?["image"], let s = image.string {
            if !matches(s, SpecSchema.imagePattern) {
                sink.error(image.mark, "invalid-image", "spec.instance.image '\(s)' must be ssm:/PARAMETER or ami- followed by 8 or 17 hex digits")
            } else if let imageArch = InstanceTypes.architecture(ofImage: s) {
                let typeArch = InstanceTypes.architecture(of: type)
                if imageArch != typeArch {
                    sink.error(image.mark, "architecture-mismatch",
                               "spec.instance.image names an \(imageArch.rawValue) image but \(type) is an \(typeArch.rawValue) instance type")
                }
            }
        }
        if let ssh = instance?["sshCidr"], let s = ssh.string {
            if let c = CIDR(s) {
                if c.hasHostBits {
                    sink.error(ssh.mark, "cidr-host-bits", "spec.instance.sshCidr \(s) has host bits set; did you mean \(c.normalized)?")
                } else if c.prefix == 0 {
                    sink.warning(ssh.mark, "ssh-open", "spec.instance.sshCidr 0.0.0.0/0 opens SSH to the whole internet; prefer SSM Session Manager or a narrow CIDR")
                }
            } else {
                sink.error(ssh.mark, "invalid-cidr", "spec.instance.sshCidr '\(s)' is not an IPv4 CIDR (a.b.c.d/n)")
            }
        }
        if let key = instance?["keyName"], let s = key.string, !matches(s, SpecSchema.keyNamePattern) {
            sink.error(key.mark, "invalid-key-name", "spec.instance.keyName must be 1 to 255 printable ASCII characters")
        }
    }

    private mutating func checkOpenClaw(_ openclaw: MarkedValue?) {
        if let version = openclaw?["version"], let s = version.string {
            if ["latest", "next", "*", ""].contains(s.lowercased()) || s.contains(where: { "^~<>=* ".contains($0) }) {
                sink.error(version.mark, "unpinned-version", "spec.openclaw.version '\(s)' is not a pinned version; name an exact release such as \"2026.2.3\"")
            } else if !matches(s, SpecSchema.versionPattern) {
                sink.error(version.mark, "invalid-version", "spec.openclaw.version '\(s)' is not a version (letters, digits, dots, dashes)")
            }
        }
        if let model = openclaw?["model"], let s = model.string, !matches(s, SpecSchema.modelPattern) {
            sink.error(model.mark, "invalid-model", "spec.openclaw.model '\(s)' is not a Bedrock model id (such as global.amazon.nova-2-lite-v1:0) or inference profile ARN")
        }
    }

    private mutating func checkIAM(_ iam: MarkedValue?, spec: MarkedValue) {
        let allowed = policy.allowedManagedPolicies.isEmpty ? "none" : policy.allowedManagedPolicies.joined(separator: ", ")
        guard let list = iam?["managedPolicies"] else {
            // The defaults apply: they too must be allowed.
            let refused = SpecDefaults.managedPolicies.filter { !policy.allowsManagedPolicy($0) }
            if !refused.isEmpty {
                sink.error(iam?.keyMark ?? spec.keyMark ?? spec.mark, "policy-not-allowed",
                           "the default spec.iam.managedPolicies include \(refused.joined(separator: ", ")), which the operator does not allow (allowed: \(allowed)); list the managed policies explicitly")
            }
            return
        }
        for item in list.array ?? [] {
            guard let s = item.string else { continue }
            if !matches(s, SpecSchema.managedPolicyPattern) {
                sink.error(item.mark, "invalid-policy", "spec.iam.managedPolicies: \(SafeText.quoted(s)) is neither a managed policy name nor a policy ARN")
            } else if !policy.allowsManagedPolicy(s) {
                sink.error(item.mark, "policy-not-allowed",
                           "spec.iam.managedPolicies: \(SafeText.quoted(s)) is not allowed by the operator (allowed: \(allowed); see --allowed-managed-policy)")
            }
        }
    }

    private mutating func checkTags(_ tags: MarkedValue?) {
        guard let entries = tags?.object else { return }
        for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
            let mark = value.keyMark ?? value.mark
            // Some AWS services and consoles trim keys: ' reclaw:deployment' must not pass as a
            // key of the spec's own.
            let trimmed = key.trimmingCharacters(in: .whitespaces)
            let lower = trimmed.lowercased()
            let spaced = trimmed == key ? "" : " (leading and trailing white space is ignored here, as AWS may trim it)"
            if lower.hasPrefix("aws:") {
                sink.error(mark, "reserved-tag", "tag key \(SafeText.quoted(key)): the aws: prefix is reserved by AWS\(spaced)")
            } else if lower.hasPrefix("reclaw:") {
                sink.error(mark, "reserved-tag", "tag key \(SafeText.quoted(key)): the reclaw: prefix is reserved for reclaw's ownership tags\(spaced)")
            } else if SpecSchema.tagKeys.reservedKeys.contains(trimmed) {
                sink.error(mark, "reserved-tag", "tag key \(SafeText.quoted(key)) is set by reclaw (NAME-COMPONENT) and cannot be overridden\(spaced)")
            }
            if key.isEmpty || key.count > SpecSchema.tagKeys.maxLength {
                sink.error(mark, "tag-key-length", "tag key '\(key.prefix(40))' must be 1 to 128 characters long")
            }
            if !matches(key, Self.tagCharacters) {
                sink.error(mark, "tag-characters", "tag key '\(key)' may hold only letters, digits, spaces and _ . : / = + - @")
            }
            if let s = value.string, !matches(s, Self.tagCharacters) && !s.isEmpty {
                sink.error(value.mark, "tag-characters", "tag value of '\(key)' may hold only letters, digits, spaces and _ . : / = + - @")
            }
        }
    }

    static let tagCharacters = "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$"

    private mutating func cidr(_ value: MarkedValue?, _ path: String, defaultValue: String) -> CIDR? {
        guard let value else { return CIDR(defaultValue) }
        guard let s = value.string else { return nil }
        guard let c = CIDR(s) else {
            sink.error(value.mark, "invalid-cidr", "\(path) '\(s)' is not an IPv4 CIDR (a.b.c.d/n)")
            return nil
        }
        if c.hasHostBits {
            sink.error(value.mark, "cidr-host-bits", "\(path) \(s) has host bits set; did you mean \(c.normalized)?")
            return nil
        }
        return c
    }

    private func matches(_ s: String, _ pattern: String) -> Bool {
        Self.fullMatch(s, pattern)
    }

    /// Whether `pattern` matches all of `s`. ICU's `$` also matches before a final line break,
    /// so `^…$` alone would let `alpha\n` pass as a name: the match must cover the whole string.
    static func fullMatch(_ s: String, _ pattern: String) -> Bool {
        guard let range = s.range(of: pattern, options: .regularExpression) else { return false }
        return range.lowerBound == s.startIndex && range.upperBound == s.endIndex
    }
}
