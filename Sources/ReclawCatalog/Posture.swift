import ReclawEngine
import ReclawJSON

/// One line of the seed's security table (docs/security.md) checked against what AWS has: whether the
/// promise holds, and the observed facts that say so.
public struct PostureCheck: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case held, notHeld, notApplicable
    }

    /// A stable identifier (`no-inbound-rule`, `imdsv2-required`, ...).
    public var id: String
    /// The promise in words.
    public var promise: String
    public var status: Status
    /// The observed facts behind the status, one sentence each.
    public var evidence: [String]

    public init(id: String, promise: String, status: Status, evidence: [String]) {
        self.id = id
        self.promise = promise
        self.status = status
        self.evidence = evidence
    }
}

/// Checks the security promises of one deployment against an observation. Pure: the caller
/// observes (the same batched read a plan makes) and decides what to do with a promise not held.
public enum Posture {
    public static func evaluate(desired: DesiredGraph, observed: ObservedDeployment) -> [PostureCheck] {
        let c = Context(desired: desired, observed: observed)
        return [noInboundRule(c), imdsv2(c), encryptedRootVolume(c), privateEndpoints(c), privateSubnet(c),
                rolePolicies(c), calledViaLast(c), ssmPrefix(c), instanceProfile(c), permissionsBoundary(c)]
    }

    /// True when every promise holds (or does not apply).
    public static func holds(_ checks: [PostureCheck]) -> Bool { !checks.contains { $0.status == .notHeld } }

    struct Context {
        let desired: DesiredGraph
        let observed: ObservedDeployment
        var ids: [ComponentKey: String] { observed.ids }

        func want(_ key: ComponentKey, _ attribute: String) -> JSONValue? {
            desired[key].flatMap { c in c.attributes[attribute].map { AWSSchema().comparable(attribute, of: c.kind, Ref.resolve($0.value, ids: ids)) } }
        }

        func have(_ key: ComponentKey, _ attribute: String) -> JSONValue? {
            observed[key].flatMap { r in r.attributes[attribute].map { AWSSchema().comparable(attribute, of: r.kind, $0) } }
        }

        func name(_ key: ComponentKey) -> String { observed[key].map { "\(key) \($0.id)" } ?? key }
    }

    static func check(_ id: String, _ promise: String, _ facts: [(Bool, String)]) -> PostureCheck {
        PostureCheck(id: id, promise: promise, status: facts.allSatisfy(\.0) ? .held : .notHeld, evidence: facts.map(\.1))
    }

    static func missing(_ key: ComponentKey) -> (Bool, String) { (false, "\(key) is missing in AWS") }

    // MARK: the promises

    static func noInboundRule(_ c: Context) -> PostureCheck {
        var facts: [(Bool, String)] = []
        if let sg = c.observed[Components.instanceSG] {
            let have = c.have(Components.instanceSG, "ingress")?.arrayValue ?? []
            let want = c.want(Components.instanceSG, "ingress")?.arrayValue ?? []
            let rules = have.isEmpty ? "no ingress rule" : "ingress " + have.map(rule).joined(separator: ", ")
            facts.append((have == want, "instance-sg \(sg.id) has \(rules)" + (want.isEmpty ? "" : " (the spec allows \(want.map(rule).joined(separator: ", ")))")))
        } else {
            facts.append(missing(Components.instanceSG))
        }
        if let instance = c.observed[Components.instance] {
            let groups = instance.attributes["securityGroups"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let sg = c.ids[Components.instanceSG]
            facts.append((groups == [sg].compactMap { $0 }, "instance \(instance.id) is in \(groups.isEmpty ? "no security group" : groups.joined(separator: ", "))"
                + (groups == [sg].compactMap { $0 } ? " only" : " (only instance-sg is expected)")))
        } else {
            facts.append(missing(Components.instance))
        }
        return check("no-inbound-rule", "No inbound rule", facts)
    }

    static func imdsv2(_ c: Context) -> PostureCheck {
        guard let instance = c.observed[Components.instance] else { return check("imdsv2-required", "IMDSv2 required", [missing(Components.instance)]) }
        let tokens = instance.attributes["httpTokens"]?.stringValue ?? "unknown"
        return check("imdsv2-required", "IMDSv2 required", [(tokens == "required", "instance \(instance.id) has HttpTokens=\(tokens)")])
    }

    static func encryptedRootVolume(_ c: Context) -> PostureCheck {
        guard let instance = c.observed[Components.instance] else { return check("encrypted-root-volume", "Encrypted root volume", [missing(Components.instance)]) }
        let volume = instance.details["volumeId"]?.stringValue
        let encrypted = instance.attributes["rootVolumeEncrypted"]?.boolValue
        let text: String
        switch (volume, encrypted) {
        case (let v?, true?): text = "root volume \(v) of instance \(instance.id) is encrypted (\(instance.details["volumeType"]?.stringValue ?? "?"))"
        case (let v?, _): text = "root volume \(v) of instance \(instance.id) is not encrypted; only a replacement of the instance can encrypt it"
        default: text = "the root volume of instance \(instance.id) was not found"
        }
        return check("encrypted-root-volume", "Encrypted root volume", [(encrypted == true, text)])
    }

    static func privateEndpoints(_ c: Context) -> PostureCheck {
        let id = "private-endpoints", promise = "AWS traffic through endpoints with private DNS, and VPC DNS on"
        var facts: [(Bool, String)] = []
        let endpoints = c.desired.components.filter { $0.kind == .vpcEndpoint }
        for e in endpoints {
            guard let have = c.observed[e.key] else { facts.append(missing(e.key)); continue }
            let dns = have.attributes["privateDns"]?.boolValue == true
            let subnets = have.attributes["subnets"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let inPrivate = c.ids[Components.privateSubnet].map { subnets == [$0] } ?? false
            facts.append((dns && inPrivate, "\(e.key) \(have.id): private DNS \(dns ? "on" : "off"), in \(subnets.isEmpty ? "no subnet" : subnets.joined(separator: ", "))"))
        }
        if let vpc = c.observed[Components.vpc] {
            let support = vpc.attributes["enableDnsSupport"]?.boolValue, hostnames = vpc.attributes["enableDnsHostnames"]?.boolValue
            func word(_ b: Bool?) -> String { b.map { $0 ? "on" : "off" } ?? "unknown" }
            let read = vpc.details["dnsAttributesReadAt"]?.stringValue.map { " (read \($0))" } ?? ""
            facts.append((support == true && hostnames == true, "vpc \(vpc.id): DNS support \(word(support)), DNS hostnames \(word(hostnames))\(read)"))
        } else {
            facts.append(missing(Components.vpc))
        }
        if endpoints.isEmpty {
            return PostureCheck(id: id, promise: promise, status: .notApplicable,
                                evidence: ["the spec has no endpoints (network.vpcEndpoints: []): AWS traffic leaves through the internet gateway"] + facts.map(\.1))
        }
        return check(id, promise, facts)
    }

    static func privateSubnet(_ c: Context) -> PostureCheck {
        guard let subnet = c.observed[Components.privateSubnet] else { return check("private-subnet-private", "The private subnet is private", [missing(Components.privateSubnet)]) }
        let routes = subnet.attributes["internetGatewayRoutes"]?.arrayValue ?? []
        let table = subnet.details["routeTable"]?.stringValue
        let served: String
        if let table {
            let whose = table == c.ids[Components.privateRouteTable] ? "private-rt" : (subnet.details["routeTableIsMain"]?.boolValue == true ? "the VPC's main table" : "a table reclaw does not manage")
            served = "served by \(table) (\(whose))"
        } else {
            served = "served by no route table"
        }
        let routeText = routes.isEmpty ? "no route to an internet gateway"
            : "routes " + routes.map { "\($0["destination"]?.stringValue ?? "?") → \($0["gateway"]?.stringValue ?? "?")" }.joined(separator: ", ")
        let mapPublic = subnet.attributes["mapPublicIpOnLaunch"]?.boolValue == true
        return check("private-subnet-private", "The private subnet is private", [
            (routes.isEmpty, "private-subnet \(subnet.id) is \(served), \(routeText)"),
            (!mapPublic, "private-subnet \(subnet.id) \(mapPublic ? "gives" : "gives no") public IP on launch"),
        ])
    }

    static func rolePolicies(_ c: Context) -> PostureCheck {
        let id = "role-policies-exact", promise = "The role's policies are exactly the seed's"
        guard let role = c.observed[Components.role] else { return check(id, promise, [missing(Components.role)]) }
        var facts: [(Bool, String)] = []
        let want = c.want(Components.role, "inlinePolicies")?.objectValue ?? [:]
        let have = c.have(Components.role, "inlinePolicies")?.objectValue ?? [:]
        for name in Set(want.keys).union(have.keys).sorted() {
            switch (want[name], have[name]) {
            case let (w?, h?): facts.append((w == h, "inline \(name) \(w == h ? "is as the seed writes it" : "differs from the seed's")"))
            case (_?, nil): facts.append((false, "inline \(name) is missing"))
            default: facts.append((false, "inline \(name) was added outside reclaw"))
            }
        }
        let wantManaged = c.want(Components.role, "managedPolicies")?.arrayValue?.compactMap(\.stringValue) ?? []
        let haveManaged = c.have(Components.role, "managedPolicies")?.arrayValue?.compactMap(\.stringValue) ?? []
        facts.append((Set(wantManaged) == Set(haveManaged), "managed \(haveManaged.isEmpty ? "none" : haveManaged.map(shortPolicy).joined(separator: ", "))"
            + (Set(wantManaged) == Set(haveManaged) ? "" : " (the spec names \(wantManaged.map(shortPolicy).joined(separator: ", ")))")))
        let trust = c.want(Components.role, "trustPolicy") == c.have(Components.role, "trustPolicy")
        facts.append((trust, trust ? "trusts ec2.amazonaws.com only" : "trust policy differs from the seed's"))
        facts[0].1 = "role \(role.id): " + facts[0].1
        return check(id, promise, facts)
    }

    static func calledViaLast(_ c: Context) -> PostureCheck {
        let id = "called-via-last", promise = "Marketplace only through Bedrock (aws:CalledViaLast)"
        guard c.observed[Components.role] != nil else { return check(id, promise, [missing(Components.role)]) }
        let statements = grants(c, prefix: "aws-marketplace:")
        if statements.isEmpty {
            let wanted = c.want(Components.role, "inlinePolicies")?["marketplace"] != nil
            return PostureCheck(id: id, promise: promise, status: wanted ? .notHeld : .notApplicable,
                                evidence: [wanted ? "inline marketplace is missing" : "no inline policy grants aws-marketplace (iam.marketplaceSubscribe: false)"])
        }
        return check(id, promise, statements.map { policy, statement in
            let via = statement["Condition"]?["StringEquals"]?["aws:CalledViaLast"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let ok = via == ["bedrock.amazonaws.com"]
            return (ok, "inline \(policy) grants \(actions(statement)) " + (ok ? "only when aws:CalledViaLast = bedrock.amazonaws.com" : "without the aws:CalledViaLast = bedrock.amazonaws.com condition"))
        })
    }

    static func ssmPrefix(_ c: Context) -> PostureCheck {
        let id = "ssm-parameters-prefix", promise = "SSM access limited to the deployment's prefix"
        guard c.observed[Components.role] != nil else { return check(id, promise, [missing(Components.role)]) }
        let expected = c.want(Components.role, "inlinePolicies")?["ssm-parameters"]?["Statement"]?.arrayValue?.first?["Resource"]?.arrayValue?.first?.stringValue
        let prefix = expected.map { String($0.dropLast($0.hasSuffix("*") ? 1 : 0)) } ?? ":parameter/openclaw/\(c.desired.deployment)/"
        let statements = grants(c, prefix: "ssm:")
        if statements.isEmpty { return check(id, promise, [(false, "no inline policy grants the deployment's parameters")]) }
        return check(id, promise, statements.map { policy, statement in
            let resources = statement["Resource"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let ok = !resources.isEmpty && resources.allSatisfy { $0.hasPrefix(prefix) }
            return (ok, "inline \(policy) grants \(actions(statement)) on \(resources.joined(separator: ", "))")
        })
    }

    static func instanceProfile(_ c: Context) -> PostureCheck {
        let id = "instance-profile-reclaws", promise = "The instance's profile is reclaw's"
        guard let instance = c.observed[Components.instance] else { return check(id, promise, [missing(Components.instance)]) }
        let want = c.want(Components.instance, "instanceProfile")?.stringValue
        let have = instance.attributes["instanceProfile"]?.stringValue
        var facts: [(Bool, String)] = [(have != nil && have == want, "instance \(instance.id) uses \(have.map { "instance profile \($0)" } ?? "no instance profile")"
            + (instance.details["instanceProfileArn"]?.stringValue.map { " (\($0))" } ?? "") + (have == want ? "" : "; reclaw's is \(want ?? "?")"))]
        if let profile = c.observed[Components.instanceProfile] {
            let roles = profile.attributes["roles"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let role = c.desired[Components.role]?.name
            facts.append((roles == [role].compactMap { $0 }, "instance profile \(profile.id) holds \(roles.isEmpty ? "no role" : "role " + roles.joined(separator: ", "))"))
        } else {
            facts.append(missing(Components.instanceProfile))
        }
        return check(id, promise, facts)
    }

    static func permissionsBoundary(_ c: Context) -> PostureCheck {
        let id = "permissions-boundary", promise = "The role carries the operator's permissions boundary"
        guard let want = c.want(Components.role, "permissionsBoundary")?.stringValue else {
            let have = c.have(Components.role, "permissionsBoundary")?.stringValue
            return PostureCheck(id: id, promise: promise, status: .notApplicable,
                                evidence: ["reclaw runs without --permissions-boundary" + (have.map { "; the role carries \($0)" } ?? "")])
        }
        guard let role = c.observed[Components.role] else { return check(id, promise, [missing(Components.role)]) }
        let have = role.attributes["permissionsBoundary"]?.stringValue
        return check(id, promise, [(have == want, "role \(role.id) has \(have.map { "boundary \($0)" } ?? "no permissions boundary")" + (have == want ? "" : "; the operator's is \(want)"))])
    }

    // MARK: helpers

    /// Inline policy statements that allow an action starting with `prefix`, with their policy's name.
    static func grants(_ c: Context, prefix: String) -> [(String, JSONValue)] {
        let inline = c.have(Components.role, "inlinePolicies")?.objectValue ?? [:]
        return inline.keys.sorted().flatMap { name -> [(String, JSONValue)] in
            let statements = inline[name]?["Statement"]?.arrayValue ?? []
            return statements.filter { s in
                s["Effect"]?.stringValue == "Allow" && (s["Action"]?.arrayValue ?? []).contains { ($0.stringValue ?? "").lowercased().hasPrefix(prefix) || $0.stringValue == "*" }
            }.map { (name, $0) }
        }
    }

    static func actions(_ statement: JSONValue) -> String {
        (statement["Action"]?.arrayValue?.compactMap(\.stringValue) ?? []).joined(separator: ", ")
    }

    static func rule(_ r: JSONValue) -> String {
        let proto = r["protocol"]?.stringValue ?? "?"
        let ports = r["fromPort"]?.intValue.map { f in r["toPort"]?.intValue.map { $0 == f ? "\(f)" : "\(f)-\($0)" } ?? "\(f)" } ?? "all"
        return "\(proto)/\(ports) from \(r["peer"]?.stringValue ?? "?")"
    }

    static func shortPolicy(_ arn: String) -> String {
        arn.hasPrefix("arn:aws:iam::aws:policy/") ? String(arn.dropFirst("arn:aws:iam::aws:policy/".count)) : arn
    }
}
