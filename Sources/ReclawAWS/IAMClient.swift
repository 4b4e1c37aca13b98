import Foundation
import ReclawJSON
import Logging

/// IAM resources as reclaw observes them.
public enum IAM {
    public struct Role: Sendable, Hashable {
        public var name: String
        public var path: String
        public var arn: String
        /// The trust policy, parsed (IAM returns it URL-encoded).
        public var trustPolicy: JSONValue
        /// Inline policies by name, parsed.
        public var inlinePolicies: [String: JSONValue]
        public var managedPolicyArns: [String]
        public var instanceProfiles: [String]
        /// The ARN of the managed policy set as the role's permissions boundary.
        public var permissionsBoundary: String?
        public var tags: [String: String]
    }

    public struct InstanceProfile: Sendable, Hashable {
        public var name: String
        public var path: String
        public var arn: String
        public var roles: [String]
        public var tags: [String: String]?
    }

    /// A policy document from IAM's answer: URL-encoded JSON, or plain JSON as some emulators send.
    public static func policyDocument(_ text: String) -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let decoded = trimmed.hasPrefix("{") ? trimmed : URIEncoding.decode(trimmed)
        return (try? JSONValue.parse(decoded)) ?? .string(decoded)
    }
}

/// The IAM calls reclaw makes, typed. IAM is global: every call goes to the partition's endpoint.
public struct IAMClient: Sendable {
    public let client: AWSClient
    /// Any region of the partition; IAM calls are signed for its home region.
    public let region: String
    public let context: AWSCallContext

    /// MaxItems per page of GetAccountAuthorizationDetails.
    public var pageSize: Int

    public init(client: AWSClient, region: String = "us-east-1", context: AWSCallContext = AWSCallContext(), pageSize: Int = 1000) {
        self.client = client
        self.region = region
        self.context = context
        self.pageSize = pageSize
    }

    func call(_ action: String, _ params: QueryParams = QueryParams()) async throws(AWSError) -> XMLElement {
        try await client.query(.iam, action, region: region, params, context: context)
    }

    /// Every role with its inline and attached policies, instance profiles and tags, from
    /// GetAccountAuthorizationDetails (one paginated call for the whole account).
    public func roles(pathPrefix: String? = nil) async throws(AWSError) -> [IAM.Role] {
        try await authorizationDetails(pathPrefix: pathPrefix).roles
    }

    /// The roles of `roles(pathPrefix:)`, and the instance profiles that hold them (each role's
    /// `InstanceProfileList`), from the same pages: no ListInstanceProfiles beside it. A profile
    /// that holds no role is not in these pages.
    public func authorizationDetails(pathPrefix: String? = nil) async throws(AWSError) -> (roles: [IAM.Role], profiles: [IAM.InstanceProfile]) {
        var roles: [IAM.Role] = []
        var profiles: [String: IAM.InstanceProfile] = [:]
        var marker: String?
        repeat {
            var p = QueryParams()
            p.add("Filter.member.1", "Role")
            p.add("MaxItems", pageSize)
            p.add("Marker", marker)
            let r = try await call("GetAccountAuthorizationDetails", p)
            let result = r.child("GetAccountAuthorizationDetailsResult") ?? r
            for m in result.list("RoleDetailList") {
                guard let roleName = m.nonEmpty("RoleName") else {
                    client.logger.warning("skipping an item without an id", metadata: ["aws.operation": "GetAccountAuthorizationDetails"])
                    continue
                }
                let path = m.string("Path") ?? "/"
                if let pathPrefix, !path.hasPrefix(pathPrefix) { continue }
                var inline: [String: JSONValue] = [:]
                for p in m.list("RolePolicyList") {
                    if let name = p.string("PolicyName") { inline[name] = IAM.policyDocument(p.string("PolicyDocument") ?? "") }
                }
                roles.append(IAM.Role(
                    name: roleName, path: path, arn: m.string("Arn") ?? "",
                    trustPolicy: IAM.policyDocument(m.string("AssumeRolePolicyDocument") ?? ""), inlinePolicies: inline,
                    managedPolicyArns: m.list("AttachedManagedPolicies").compactMap { $0.string("PolicyArn") },
                    instanceProfiles: m.list("InstanceProfileList").compactMap { $0.string("InstanceProfileName") },
                    permissionsBoundary: m.at("PermissionsBoundary", "PermissionsBoundaryArn")?.text, tags: m.tags("Tags")))
                for p in m.list("InstanceProfileList") {
                    guard let name = p.string("InstanceProfileName") else { continue }
                    if let pathPrefix, !(p.string("Path") ?? "/").hasPrefix(pathPrefix) { continue }
                    let held = p.list("Roles").compactMap { $0.string("RoleName") }
                    profiles[name] = IAM.InstanceProfile(name: name, path: p.string("Path") ?? "/", arn: p.string("Arn") ?? "",
                                                         roles: held.isEmpty ? [roleName] : held,
                                                         tags: p.child("Tags") != nil ? p.tags("Tags") : nil)
                }
            }
            marker = result.bool("IsTruncated") == true ? result.string("Marker") : nil
        } while marker != nil
        return (roles, profiles.keys.sorted().compactMap { profiles[$0] })
    }

    /// Instance profiles under a path (ListInstanceProfiles does not return tags).
    public func instanceProfiles(pathPrefix: String) async throws(AWSError) -> [IAM.InstanceProfile] {
        var out: [IAM.InstanceProfile] = []
        var marker: String?
        repeat {
            var p = QueryParams()
            p.add("PathPrefix", pathPrefix)
            p.add("Marker", marker)
            let r = try await call("ListInstanceProfiles", p)
            let result = r.child("ListInstanceProfilesResult") ?? r
            // Some implementations ignore PathPrefix: filter here too.
            for m in result.list("InstanceProfiles") where (m.string("Path") ?? "/").hasPrefix(pathPrefix) {
                guard let name = m.nonEmpty("InstanceProfileName") else {
                    client.logger.warning("skipping an item without an id", metadata: ["aws.operation": "ListInstanceProfiles"])
                    continue
                }
                out.append(IAM.InstanceProfile(
                    name: name, path: m.string("Path") ?? "/", arn: m.string("Arn") ?? "",
                    roles: m.list("Roles").compactMap { $0.string("RoleName") }, tags: m.child("Tags") != nil ? m.tags("Tags") : nil))
            }
            marker = result.bool("IsTruncated") == true ? result.string("Marker") : nil
        } while marker != nil
        return out
    }

    public func instanceProfileTags(_ name: String) async throws(AWSError) -> [String: String] {
        let r = try await call("ListInstanceProfileTags", ["InstanceProfileName": name])
        return (r.child("ListInstanceProfileTagsResult") ?? r).tags("Tags")
    }

    public func createRole(name: String, path: String, trustPolicy: JSONValue, description: String, permissionsBoundary: String? = nil,
                           tags: [String: String]) async throws(AWSError) {
        var p = QueryParams()
        p.add("RoleName", name)
        p.add("Path", path)
        p.add("AssumeRolePolicyDocument", trustPolicy.description)
        p.add("Description", description)
        p.add("PermissionsBoundary", permissionsBoundary)
        Self.addTags(&p, tags)
        _ = try await call("CreateRole", p)
    }

    /// Sets (or replaces) the managed policy that bounds what the role's policies can grant.
    public func putRolePermissionsBoundary(role: String, arn: String) async throws(AWSError) {
        _ = try await call("PutRolePermissionsBoundary", ["RoleName": role, "PermissionsBoundary": arn])
    }

    public func updateTrustPolicy(role: String, _ document: JSONValue) async throws(AWSError) {
        _ = try await call("UpdateAssumeRolePolicy", ["RoleName": role, "PolicyDocument": document.description])
    }

    public func putRolePolicy(role: String, name: String, _ document: JSONValue) async throws(AWSError) {
        _ = try await call("PutRolePolicy", ["RoleName": role, "PolicyName": name, "PolicyDocument": document.description])
    }

    public func deleteRolePolicy(role: String, name: String) async throws(AWSError) {
        _ = try await call("DeleteRolePolicy", ["RoleName": role, "PolicyName": name])
    }

    public func attachRolePolicy(role: String, arn: String) async throws(AWSError) {
        _ = try await call("AttachRolePolicy", ["RoleName": role, "PolicyArn": arn])
    }

    public func detachRolePolicy(role: String, arn: String) async throws(AWSError) {
        _ = try await call("DetachRolePolicy", ["RoleName": role, "PolicyArn": arn])
    }

    public func tagRole(_ role: String, _ tags: [String: String]) async throws(AWSError) {
        guard !tags.isEmpty else { return }
        var p = QueryParams()
        p.add("RoleName", role)
        Self.addTags(&p, tags)
        _ = try await call("TagRole", p)
    }

    public func untagRole(_ role: String, keys: [String]) async throws(AWSError) {
        guard !keys.isEmpty else { return }
        var p = QueryParams()
        p.add("RoleName", role)
        p.addList("TagKeys.member", keys.sorted())
        _ = try await call("UntagRole", p)
    }

    public func deleteRole(_ role: String) async throws(AWSError) {
        _ = try await call("DeleteRole", ["RoleName": role])
    }

    public func createInstanceProfile(name: String, path: String, tags: [String: String]) async throws(AWSError) {
        var p = QueryParams()
        p.add("InstanceProfileName", name)
        p.add("Path", path)
        Self.addTags(&p, tags)
        _ = try await call("CreateInstanceProfile", p)
    }

    public func addRole(_ role: String, toProfile profile: String) async throws(AWSError) {
        _ = try await call("AddRoleToInstanceProfile", ["InstanceProfileName": profile, "RoleName": role])
    }

    public func removeRole(_ role: String, fromProfile profile: String) async throws(AWSError) {
        _ = try await call("RemoveRoleFromInstanceProfile", ["InstanceProfileName": profile, "RoleName": role])
    }

    public func tagInstanceProfile(_ name: String, _ tags: [String: String]) async throws(AWSError) {
        guard !tags.isEmpty else { return }
        var p = QueryParams()
        p.add("InstanceProfileName", name)
        Self.addTags(&p, tags)
        _ = try await call("TagInstanceProfile", p)
    }

    public func untagInstanceProfile(_ name: String, keys: [String]) async throws(AWSError) {
        guard !keys.isEmpty else { return }
        var p = QueryParams()
        p.add("InstanceProfileName", name)
        p.addList("TagKeys.member", keys.sorted())
        _ = try await call("UntagInstanceProfile", p)
    }

    public func deleteInstanceProfile(_ name: String) async throws(AWSError) {
        _ = try await call("DeleteInstanceProfile", ["InstanceProfileName": name])
    }

    static func addTags(_ p: inout QueryParams, _ tags: [String: String]) {
        for (i, (k, v)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            p.add("Tags.member.\(i + 1).Key", k)
            p.add("Tags.member.\(i + 1).Value", v)
        }
    }
}
