import ReclawJSON

/// What kind of actor made a change CloudTrail recorded, so an alert can say at a glance whether a
/// person, some other automation, or AWS itself touched a deployment. Read from the record's
/// `userIdentity`, `sourceIPAddress` and `userAgent`.
public enum ActorType: String, Sendable, Codable, CaseIterable {
    /// A person: the console, the CLI or an SDK under an IAM user, the root user, an IAM Identity
    /// Center (SSO) session, a SAML or federated user, or a role used from the console.
    case human
    /// Another automation: an assumed role (CI, a Lambda, another controller), a web identity, or a
    /// service acting on a principal's behalf (`invokedBy`, such as CloudFormation).
    case automation
    /// AWS itself: a service under its own identity (`AWSService`) or a service-linked role, such as
    /// EC2 recovering an instance or Auto Scaling replacing one.
    case aws

    /// The class of a CloudTrail record's actor; nil when the record does not say enough.
    public static func of(record: JSONValue) -> ActorType? {
        of(userIdentity: record["userIdentity"], sourceIPAddress: record["sourceIPAddress"]?.stringValue,
           userAgent: record["userAgent"]?.stringValue)
    }

    public static func of(userIdentity: JSONValue?, sourceIPAddress: String?, userAgent: String?) -> ActorType? {
        guard let identity = userIdentity, let type = identity["type"]?.stringValue else { return nil }
        let arn = identity["arn"]?.stringValue ?? ""
        let issuer = identity["sessionContext"]?["sessionIssuer"]?["arn"]?.stringValue ?? ""
        if type == "AWSService" { return .aws }
        if issuer.contains(":role/aws-service-role/") || arn.contains(":assumed-role/AWSServiceRoleFor") { return .aws }
        if identity["invokedBy"]?.stringValue?.isEmpty == false { return .automation }
        switch type {
        case "Root", "IAMUser", "IdentityCenterUser", "SAMLUser", "FederatedUser", "Directory":
            return .human
        case "AssumedRole", "Role":
            let role = arn.split(separator: "/").dropFirst().first.map(String.init) ?? ""
            if role.hasPrefix("AWSReservedSSO_") || issuer.contains(":role/aws-reserved/sso.amazonaws.com/") { return .human }
            if identity["sessionContext"]?["webIdFederationData"]?["federatedProvider"] != nil { return .automation }
            if isConsole(userAgent) { return .human }
            return .automation
        case "WebIdentityUser", "AWSAccount":
            return .automation
        default:
            return nil
        }
    }

    /// The console calls AWS with its own user agent.
    static func isConsole(_ userAgent: String?) -> Bool {
        guard let ua = userAgent?.lowercased() else { return false }
        return ua == "aws internal" || ua.contains("console.amazonaws.com") || ua.contains("signin.amazonaws.com") || ua.hasPrefix("aws-internal/")
    }
}
