import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// The instance role (trust, inline and managed policies) and its instance profile.
extension AWSDriver {
    func createRole(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let iam = iam(c)
        let name = d.name!
        do {
            try await iam.createRole(name: name, path: d.string(.path) ?? DesiredGraphBuilder.iamPath,
                                     trustPolicy: d[.trustPolicy]!.value, description: "OpenClaw instance role of reclaw deployment \(c.deployment)",
                                     permissionsBoundary: d.string(.permissionsBoundary), tags: d.tags)
        } catch {
            guard error.code == "EntityAlreadyExists" else { throw error }
            // Made with this component's tags since the observation (nothing is recorded for it): this
            // create's own first attempt, whose answer was lost and which libcurl or reclaw resent.
            let roles = try await iam.roles(pathPrefix: d.string(.path) ?? DesiredGraphBuilder.iamPath)
            guard roles.contains(where: { $0.name == name && Self.madeBy(c, d, tags: $0.tags) }) else {
                throw AWSError(kind: .service, code: "NotOwned", message: "an IAM role named \(name) already exists and is not managed by reclaw (no \(OwnershipTags.deployment) tag); reclaw will not adopt it",
                               service: "iam", operation: "CreateRole", region: c.region, requestID: error.requestID)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (policy, document) in d[.inlinePolicies]?.value.objectValue ?? [:] {
                group.addTask { try await iam.putRolePolicy(role: name, name: policy, document) }
            }
            for arn in d.strings(.managedPolicies) {
                group.addTask { try await iam.attachRolePolicy(role: name, arn: arn) }
            }
            try await group.waitForAll()
        }
        return name
    }

    func updateRole(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        let iam = iam(c)
        // First: the shipped IAM policy lets reclaw change a role's policies only once it carries the boundary.
        if changed.contains(.permissionsBoundary), let boundary = d.string(.permissionsBoundary) {
            try await iam.putRolePermissionsBoundary(role: r.id, arn: boundary)
        }
        if changed.contains(.trustPolicy) { try await iam.updateTrustPolicy(role: r.id, d[.trustPolicy]!.value) }
        if changed.contains(.inlinePolicies) {
            let want = d[.inlinePolicies]?.value.objectValue ?? [:]
            let have = r[.inlinePolicies]?.objectValue ?? [:]
            for (name, document) in want where have[name] != document { try await iam.putRolePolicy(role: r.id, name: name, document) }
            for name in have.keys where want[name] == nil { try await iam.deleteRolePolicy(role: r.id, name: name) }
        }
        if changed.contains(.managedPolicies) {
            let want = Set(d.strings(.managedPolicies)), have = Set(r.strings(.managedPolicies))
            for arn in want.subtracting(have).sorted() { try await iam.attachRolePolicy(role: r.id, arn: arn) }
            for arn in have.subtracting(want).sorted() { try await iam.detachRolePolicy(role: r.id, arn: arn) }
        }
    }

    func deleteRole(_ r: ObservedResource, _ c: StepContext) async throws {
        let iam = iam(c)
        for profile in r.details["instanceProfiles"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            _ = try await absent { () async throws(AWSError) in try await iam.removeRole(r.id, fromProfile: profile) }
        }
        for arn in r.strings(.managedPolicies) { try await iam.detachRolePolicy(role: r.id, arn: arn) }
        for name in (r[.inlinePolicies]?.objectValue ?? [:]).keys { try await iam.deleteRolePolicy(role: r.id, name: name) }
        _ = try await absent { () async throws(AWSError) in try await iam.deleteRole(r.id) }
    }

    func createInstanceProfile(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let iam = iam(c)
        let name = d.name!
        do {
            try await iam.createInstanceProfile(name: name, path: d.string(.path) ?? DesiredGraphBuilder.iamPath, tags: d.tags)
            // Made with these tags: the next observation need not read them back (ListInstanceProfileTags).
            await slowAttributes?.store([name: [AWSObserver.profileTagsKey: .object(d.tags.mapValues { .string($0) })]])
        } catch {
            guard error.code == "EntityAlreadyExists" else { throw error }
            // Made with reclaw's tags by a create of this deployment cut short before its role was
            // added: the same create, carried on. Anyone else's is never adopted.
            guard (try? await iam.instanceProfileTags(name))?[OwnershipTags.deployment] == c.deployment else {
                throw AWSError(kind: .service, code: "NotOwned", message: "an instance profile named \(name) already exists and is not managed by reclaw; reclaw will not adopt it",
                               service: "iam", operation: "CreateInstanceProfile", region: c.region, requestID: error.requestID)
            }
        }
        for role in d.strings(.roles) { try await iam.addRole(role, toProfile: name) }
        return name
    }

    func updateInstanceProfile(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        guard changed.contains(.roles) else { return }
        let want = Set(d.strings(.roles)), have = Set(r.strings(.roles))
        for role in have.subtracting(want) { try await iam(c).removeRole(role, fromProfile: r.id) }
        for role in want.subtracting(have) { try await iam(c).addRole(role, toProfile: r.id) }
    }

    func deleteInstanceProfile(_ r: ObservedResource, _ c: StepContext) async throws {
        for role in r.strings(.roles) {
            _ = try await absent { () async throws(AWSError) in try await iam(c).removeRole(role, fromProfile: r.id) }
        }
        _ = try await absent { () async throws(AWSError) in try await iam(c).deleteInstanceProfile(r.id) }
    }
}
