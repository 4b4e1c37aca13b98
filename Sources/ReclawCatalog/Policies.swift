import ReclawJSON

/// The instance role's policy documents (docs/security.md), and the normalization that lets documents
/// read back from IAM be compared with them.
public enum Policies {
    public static let trust: JSONValue = [
        "Version": "2012-10-17",
        "Statement": [["Effect": "Allow", "Principal": ["Service": "ec2.amazonaws.com"], "Action": "sts:AssumeRole"]],
    ]

    public static let bedrock: JSONValue = [
        "Version": "2012-10-17",
        "Statement": [[
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:ListFoundationModels", "bedrock:GetFoundationModel"],
            "Resource": "*",
        ]],
    ]

    public static let marketplace: JSONValue = [
        "Version": "2012-10-17",
        "Statement": [[
            "Sid": "MarketplaceFor3pModels",
            "Effect": "Allow",
            "Action": ["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"],
            "Resource": "*",
            "Condition": ["StringEquals": ["aws:CalledViaLast": "bedrock.amazonaws.com"]],
        ]],
    ]

    /// GetParameter and PutParameter on the deployment's own parameters only.
    public static func ssmParameters(partition: String, region: String, account: String, deployment: String) -> JSONValue {
        [
            "Version": "2012-10-17",
            "Statement": [[
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:PutParameter"],
                "Resource": .string("arn:\(partition):ssm:\(region):\(account):parameter/openclaw/\(deployment)/*"),
            ]],
        ]
    }

    static let listKeys: Set<String> = ["Action", "NotAction", "Resource", "NotResource"]

    /// A policy document in canonical form: one-element and string fields become sorted lists,
    /// statements are sorted, so documents that mean the same compare equal.
    public static func canonical(_ document: JSONValue) -> JSONValue {
        guard case .object(var doc) = document else { return document }
        var statements: [JSONValue]
        switch doc["Statement"] {
        case .array(let a)?: statements = a
        case let s?: statements = [s]
        case nil: statements = []
        }
        statements = statements.map(canonicalStatement).sorted { $0.description < $1.description }
        doc["Statement"] = .array(statements)
        return .object(doc)
    }

    static func canonicalStatement(_ statement: JSONValue) -> JSONValue {
        guard case .object(var s) = statement else { return statement }
        for key in listKeys { if let v = s[key] { s[key] = sortedList(v) } }
        if case .object(let principal)? = s["Principal"] { s["Principal"] = .object(principal.mapValues(sortedList)) }
        if case .object(let conditions)? = s["Condition"] {
            s["Condition"] = .object(conditions.mapValues { op in
                guard case .object(let keys) = op else { return op }
                return .object(keys.mapValues(sortedList))
            })
        }
        return .object(s)
    }

    static func sortedList(_ v: JSONValue) -> JSONValue {
        switch v {
        case .array(let a): return .array(Array(Set(a)).sorted { $0.description < $1.description })
        case .string: return .array([v])
        default: return v
        }
    }
}

extension Policies {
    /// Named policy documents (a role's inline policies), each in canonical form.
    public static func canonicalByName(_ documents: JSONValue) -> JSONValue {
        guard case .object(let byName) = documents else { return documents }
        return .object(byName.mapValues(canonical))
    }
}
