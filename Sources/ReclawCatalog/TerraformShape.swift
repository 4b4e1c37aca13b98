import ReclawEngine
import ReclawJSON

/// How a value of reclaw's becomes the Terraform AWS provider's. Unresolved references (`Ref`)
/// stay where the value lands, so the plan can mark them as known only after apply.
enum TerraformShape: Sendable {
    /// The value as it is.
    case same
    /// Security group rules as `ingress`/`egress` blocks: `cidr_blocks`, `security_groups`,
    /// `from_port`, `to_port`, `protocol` (`-1` for all).
    case rules
    /// Routes as `route` blocks: `cidr_block`, `gateway_id`.
    case routes
    /// A policy document as the provider holds it: JSON text.
    case policyText
    /// Inline policies as `inline_policy` blocks: `name`, `policy` (JSON text).
    case inlinePolicies
    /// A one-element list as its element (an instance profile's role).
    case single
    /// An image reference as `ami`: an AMI id, or `resolve:ssm:PARAMETER` as EC2 resolves it at launch.
    case image

    func apply(_ value: JSONValue) -> JSONValue {
        if Ref.target(value) != nil { return value }
        switch self {
        case .same: return value
        case .rules: return .array((value.arrayValue ?? []).map(Self.rule))
        case .routes:
            return .array((value.arrayValue ?? []).map { r -> JSONValue in
                ["cidr_block": r["destination"] ?? .null, "gateway_id": r["gateway"] ?? .null]
            })
        case .policyText: return value == .null ? .null : .string(value.description)
        case .inlinePolicies:
            return .array((value.objectValue ?? [:]).sorted { $0.key < $1.key }.map { name, policy -> JSONValue in
                ["name": .string(name), "policy": .string(policy.description)]
            })
        case .single: return value.arrayValue.map { $0.first ?? .null } ?? value
        case .image:
            guard let s = value.stringValue, s.hasPrefix("ssm:") else { return value }
            return .string("resolve:" + s)
        }
    }

    /// One rule as the provider's block: the peer lands in `cidr_blocks`, `ipv6_cidr_blocks`,
    /// `prefix_list_ids` or `security_groups` by what it is.
    static func rule(_ r: JSONValue) -> JSONValue {
        let proto = r["protocol"]?.stringValue ?? "all"
        let all = proto == "all" || proto == "-1"
        let peer = r["peer"] ?? .null
        var cidrs: [JSONValue] = [], ipv6: [JSONValue] = [], prefixes: [JSONValue] = [], groups: [JSONValue] = []
        if Ref.target(peer) != nil {
            groups.append(peer)
        } else if let p = peer.stringValue {
            if p.hasPrefix("sg-") { groups.append(peer) } else if p.hasPrefix("pl-") { prefixes.append(peer) } else if p.contains(":") { ipv6.append(peer) } else { cidrs.append(peer) }
        }
        return [
            "protocol": .string(all ? "-1" : proto),
            "from_port": all ? 0 : r["fromPort"] ?? 0, "to_port": all ? 0 : r["toPort"] ?? 0,
            "cidr_blocks": .array(cidrs), "ipv6_cidr_blocks": .array(ipv6), "prefix_list_ids": .array(prefixes),
            "security_groups": .array(groups), "self": false, "description": "",
        ]
    }

    /// Puts a value at a path of names and list indexes (`["root_block_device", 0, "encrypted"]`),
    /// making the objects and one-element lists on the way.
    static func place(_ value: JSONValue, at path: [JSONValue], in object: inout [String: JSONValue]) {
        guard let name = path.first?.stringValue else { return }
        let rest = Array(path.dropFirst())
        if rest.isEmpty {
            object[name] = value
        } else if let index = rest.first?.intValue {
            var list = object[name]?.arrayValue ?? []
            while list.count <= index { list.append([:]) }
            var inner = list[index].objectValue ?? [:]
            place(value, at: Array(rest.dropFirst()), in: &inner)
            list[index] = .object(inner)
            object[name] = .array(list)
        } else {
            var inner = object[name]?.objectValue ?? [:]
            place(value, at: rest, in: &inner)
            object[name] = .object(inner)
        }
    }
}
