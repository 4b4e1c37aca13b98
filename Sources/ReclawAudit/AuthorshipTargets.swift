import ReclawJSON

extension Authorship {
    /// The parameters that name the resource a call acts on, lower-cased, as paths with list
    /// wrappers (`items`, `.N` indices) left out: CloudTrail's nested form (`resourcesSet.items[].resourceId`)
    /// and the query form (`ResourceId.1`) both reduce to them. A name anywhere else (a tag's value,
    /// a rule's peer group, a policy document) is not a target.
    static let targetPaths: Set<[String]> = [
        ["groupid"], ["vpcid"], ["subnetid"], ["routetableid"], ["internetgatewayid"], ["vpcendpointid"],
        ["instanceid"], ["instanceids"], ["instancesset", "instanceid"], ["associationid"],
        ["resourceid"], ["resourcesset", "resourceid"], ["rolename"], ["instanceprofilename"], ["name"], ["names"],
    ]

    /// The ids and names a call's `requestParameters` act on. A single `…Request` wrapper (as in
    /// `ModifySecurityGroupRulesRequest`) is looked through.
    public static func targets(_ requestParameters: JSONValue?) -> Set<String> {
        guard var object = requestParameters?.objectValue else { return [] }
        if object.count == 1, let only = object.first, only.key.hasSuffix("Request"), let unwrapped = only.value.objectValue {
            object = unwrapped
        }
        var found: Set<String> = []
        for (key, value) in object { collect(value, path: components(key), into: &found, depth: 0) }
        return found
    }

    private static func collect(_ value: JSONValue, path: [String], into found: inout Set<String>, depth: Int) {
        guard depth <= 6, path.count <= 3 else { return }
        switch value {
        case .string(let s):
            if targetPaths.contains(path) { found.insert(s) }
        case .array(let a):
            for v in a.prefix(100) { collect(v, path: path, into: &found, depth: depth + 1) }
        case .object(let o):
            for (key, v) in o { collect(v, path: path + components(key), into: &found, depth: depth + 1) }
        default:
            return
        }
    }

    /// `ResourceId.1` → `resourceid`; `items` and numeric parts are list wrappers.
    private static func components(_ key: String) -> [String] {
        key.lowercased().split(separator: ".").map(String.init).filter { $0 != "items" && !$0.allSatisfy(\.isNumber) }
    }
}
