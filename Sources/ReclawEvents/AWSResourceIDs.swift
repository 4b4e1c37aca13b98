import ReclawJSON

/// How reclaw tells an AWS resource id in an event or an observation from other text, so events
/// can be mapped to the deployments whose resources they name.
public enum AWSResourceIDs {
    /// The id prefixes of rules, associations, interfaces and volumes: learned from the events that name them.
    public static let learnedPrefixes = ["sgr-", "rtbassoc-", "iip-assoc-", "eni-", "vol-"]

    /// Every AWS id anywhere in `value`.
    public static func collectIDs(_ value: JSONValue, into ids: inout Set<String>) {
        switch value {
        case .string(let s): if isAWSID(s) { ids.insert(s) }
        case .array(let a): for v in a { collectIDs(v, into: &ids) }
        case .object(let o): for v in o.values { collectIDs(v, into: &ids) }
        default: break
        }
    }

    /// `vpc-0abc…`, `rtbassoc-…`, `iip-assoc-…`: lower-case words, then 8 to 17 hex digits. Images
    /// are left out: one public AMI serves many deployments.
    public static func isAWSID(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, let last = parts.last, (8...17).contains(last.count), last.allSatisfy(\.isHexDigit),
              last.allSatisfy({ !$0.isUppercase }), parts.first != "ami" else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 >= "a" && $0 <= "z" } }
    }
}
