import Foundation
import ReclawJSON
import ReclawTestSupport
import Testing

/// parliament, the IAM policy linter, on the policies under deploy/iam: every finding it still
/// reports is explained in docs/security.md, and every explanation there is of a finding it reports.
@Suite struct IAMLinterTests {
    static let policies = ["reclaw-policy", "reclaw-instance-boundary", "reclaw-replicas-policy", "reclaw-events-policy"]

    /// A finding as docs/security.md names it: `policy: ISSUE detail`, where the detail is the
    /// escalation path, the actions, or the Sid of the statement the finding is about.
    static func keys(policy: String) async throws -> Set<String> {
        let path = "deploy/iam/\(policy).json"
        let text = try DeployFiles.text(path)
        // parliament reads the policy from standard input when it is not a terminal.
        let r = try await Command.run(["parliament", "--json", "--include-community-auditors"], stdin: text)
        #expect(r.stderr.isEmpty, "parliament failed: \(r.stderr)")
        let lines = text.components(separatedBy: "\n")
        var out = Set<String>()
        for line in r.stdout.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let finding = try JSONValue.parse(String(line))
            let issue = finding["issue"]?.stringValue ?? "?"
            let location = finding["location"]
            var detail: String
            if let type = location?["type"]?.stringValue {
                detail = type
            } else if let line = location?["line"]?.intValue {
                // The statement starting at that line: its Sid is the first one from there on.
                detail = lines[(line - 1)...].lazy.compactMap(Self.sid).first ?? "line \(line)"
            } else {
                detail = (location?["actions"]?.arrayValue?.compactMap(\.stringValue) ?? []).joined(separator: ", ")
            }
            if issue == "PERMISSIONS_MANAGEMENT_ACTIONS" { detail = "" }
            out.insert("\(policy): \(issue)\(detail.isEmpty ? "" : " \(detail)")")
        }
        return out
    }

    static func sid(_ line: String) -> String? {
        guard let r = line.range(of: "\"Sid\": \"") else { return nil }
        return line[r.upperBound...].split(separator: "\"").first.map(String.init)
    }

    /// The rows of the table under "What the IAM linter still reports": `policy` | `finding` | why.
    static func explained() throws -> [String: String] {
        let doc = try DeployFiles.text("docs/security.md")
        let section = try #require(doc.range(of: "### What the IAM linter still reports"))
        var out: [String: String] = [:]
        for line in doc[section.upperBound...].split(separator: "\n") {
            if line.hasPrefix("#") { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4, cells[1].hasPrefix("`"), cells[2].hasPrefix("`") else { continue }
            out["\(cells[1].trimmingCharacters(in: ["`"])): \(cells[2].trimmingCharacters(in: ["`"]))"] = cells[3]
        }
        return out
    }

    @Test func everyFindingParliamentReportsIsExplainedInTheSecurityDocs() async throws {
        var found = Set<String>()
        for policy in Self.policies { found.formUnion(try await Self.keys(policy: policy)) }
        let explained = try Self.explained()
        #expect(found.subtracting(explained.keys).isEmpty, "unexplained findings: \(found.subtracting(explained.keys).sorted())")
        #expect(Set(explained.keys).subtracting(found).isEmpty, "explained but no longer reported: \(Set(explained.keys).subtracting(found).sorted())")
        for (key, why) in explained { #expect(why.count > 40, "\(key) has no real explanation") }
    }

    @Test func theBoundaryAndThePassRoleConditionsLeaveNoUnconditionedRoleChange() async throws {
        // The findings the issue named as fixed stay fixed: no resource mismatch on the IAM statements
        // and no finding on the untag guard.
        let found = try await Self.keys(policy: "reclaw-policy")
        for sid in ["BoundedInstanceRoles", "AttachOnlyAllowedManagedPolicies", "InstanceRoles", "PassInstanceRoles", "UntagOwnedResourcesButNotOwnership"] {
            #expect(!found.contains { $0.hasSuffix(" \(sid)") }, "\(sid): \(found.filter { $0.hasSuffix(" \(sid)") })")
        }
    }
}
