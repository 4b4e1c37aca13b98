import ReclawAWS
import ReclawJSON

/// The AWS resources an API call names, from its parameters and (for writes) its response, as
/// CloudTrail lists them in `resources`.
enum ResourceExtractor {
    static let ec2Types: [(String, String)] = [
        ("vpce", "AWS::EC2::VPCEndpoint"), ("vpc", "AWS::EC2::VPC"), ("subnet", "AWS::EC2::Subnet"), ("igw", "AWS::EC2::InternetGateway"),
        ("rtbassoc", "AWS::EC2::SubnetRouteTableAssociation"), ("rtb", "AWS::EC2::RouteTable"), ("sgr", "AWS::EC2::SecurityGroupRule"),
        ("sg", "AWS::EC2::SecurityGroup"), ("i", "AWS::EC2::Instance"), ("vol", "AWS::EC2::Volume"), ("eni", "AWS::EC2::NetworkInterface"),
        ("ami", "AWS::EC2::Ami"),
    ]

    static func resources(_ call: AWSCallRecord) -> [AuditEvent.Resource] {
        var found: [(String, String)] = []
        func add(_ name: String, _ type: String) { if !found.contains(where: { $0.0 == name }) { found.append((name, type)) } }
        var texts: [String] = []
        collectStrings(call.requestParameters, into: &texts)
        if let response = call.responseText { texts.append(response) }
        for text in texts { for (id, type) in ec2IDs(in: text) { add(id, type) } }
        let params = call.requestParameters.objectValue ?? [:]
        for (key, type) in [("RoleName", "AWS::IAM::Role"), ("InstanceProfileName", "AWS::IAM::InstanceProfile"), ("PolicyArn", "AWS::IAM::Policy")] {
            if let v = params[key]?.stringValue { add(v, type) }
        }
        if call.service == .ssm {
            if let name = params["Name"]?.stringValue { add(name, "AWS::SSM::Parameter") }
            for name in params["Names"]?.arrayValue?.compactMap(\.stringValue) ?? [] { add(name, "AWS::SSM::Parameter") }
            if let id = params["ResourceId"]?.stringValue { add(id, "AWS::SSM::Parameter") }
            for id in params["InstanceIds"]?.arrayValue?.compactMap(\.stringValue) ?? [] { add(id, "AWS::EC2::Instance") }
        }
        return found.map { AuditEvent.Resource(type: $0.1, name: $0.0) }
    }

    static func collectStrings(_ v: JSONValue, into out: inout [String]) {
        switch v {
        case .string(let s): out.append(s)
        case .array(let a): a.forEach { collectStrings($0, into: &out) }
        case .object(let o): o.values.forEach { collectStrings($0, into: &out) }
        default: break
        }
    }

    /// EC2 resource ids (`vpc-0abc…`) in free text.
    static func ec2IDs(in text: String) -> [(String, String)] {
        var out: [(String, String)] = []
        let chars = Array(text.utf8)
        var i = 0
        while i < chars.count {
            // Find a word start.
            if i > 0, isWord(chars[i - 1]) { i += 1; continue }
            var matched = false
            for (prefix, type) in ec2Types {
                let p = Array((prefix + "-").utf8)
                guard i + p.count < chars.count, Array(chars[i..<i + p.count]) == p else { continue }
                var j = i + p.count
                while j < chars.count, isHex(chars[j]) { j += 1 }
                let hexCount = j - i - p.count
                if (8...17).contains(hexCount), j == chars.count || !isWord(chars[j]) {
                    out.append((String(decoding: chars[i..<j], as: UTF8.self), type))
                    i = j
                    matched = true
                }
                break
            }
            if !matched { i += 1 }
        }
        return out
    }

    static func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) }
    static func isWord(_ c: UInt8) -> Bool { isHex(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95 }
}
