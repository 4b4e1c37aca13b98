import Foundation
import ReclawAWS
import ReclawJSON
import ReclawSpec
import ReclawTestSupport
import Testing

/// deploy/iam/reclaw-policy.json grants exactly the calls reclaw makes, and only on what it owns.
@Suite struct IAMPolicyTests {
    let policy: JSONValue
    let statements: [JSONValue]

    init() throws {
        policy = try DeployFiles.json("deploy/iam/reclaw-policy.json")
        statements = policy["Statement"]?.arrayValue ?? []
    }

    var granted: Set<String> { Set(statements.flatMap { $0["Action"]?.strings ?? [] }) }

    @Test func thePolicyGrantsExactlyTheActionsOfTheOperationsReclawCalls() {
        let needed = AWSOperations.iamActions
        #expect(needed.subtracting(granted).isEmpty, "missing from the policy: \(needed.subtracting(granted).sorted())")
        #expect(granted.subtracting(needed).isEmpty, "granted but never called: \(granted.subtracting(needed).sorted())")
    }

    @Test func theReplicasPolicyGrantsTheLeaseTablesCallsOnThatTableOnly() throws {
        let replicas = try DeployFiles.json("deploy/iam/reclaw-replicas-policy.json")
        let statements = replicas["Statement"]?.arrayValue ?? []
        let granted = Set(statements.flatMap { $0["Action"]?.strings ?? [] })
        #expect(granted == AWSOperations.iamActions(.replicas), "\(granted.symmetricDifference(AWSOperations.iamActions(.replicas)).sorted())")
        for s in statements {
            // The table, or (for a round's Query) its index `kind`.
            let table = "arn:aws:dynamodb:*:*:table/reclaw-leases"
            let expected = s["Sid"] == "LeaseTableIndex" ? [table + "/index/kind"] : [table]
            #expect(s["Resource"]?.strings == expected, "\(s["Sid"] ?? "?")")
        }
        // The daemon's own calls are item calls; making the table is the one-time setup command's.
        let items = statements.first { $0["Sid"] == "LeaseTableItems" }?["Action"]?.strings ?? []
        #expect(!items.contains("dynamodb:CreateTable") && !items.contains("dynamodb:UpdateTable") && !items.contains("dynamodb:DeleteTable"))
    }

    @Test func theEventsPolicyGrantsTheQueueAndRuleCallsOnThatQueueAndRuleOnly() throws {
        let events = try DeployFiles.json("deploy/iam/reclaw-events-policy.json")
        let statements = events["Statement"]?.arrayValue ?? []
        let granted = Set(statements.flatMap { $0["Action"]?.strings ?? [] })
        #expect(granted == AWSOperations.iamActions(.events), "\(granted.symmetricDifference(AWSOperations.iamActions(.events)).sorted())")
        for s in statements {
            #expect(s["Effect"] == "Allow" && s["Condition"] == nil, "\(s["Sid"] ?? "?")")
            let actions = s["Action"]?.strings ?? []
            let expected = actions.allSatisfy { $0.hasPrefix("sqs:") } ? "arn:aws:sqs:*:*:reclaw-events" : "arn:aws:events:*:*:rule/reclaw-events"
            #expect(actions.allSatisfy { $0.hasPrefix("sqs:") } || actions.allSatisfy { $0.hasPrefix("events:") }, "\(s["Sid"] ?? "?") mixes services")
            #expect(s["Resource"]?.strings == [expected], "\(s["Sid"] ?? "?")")
        }
        // The daemon's statement reads and deletes messages; making, changing and removing the
        // queue or the rule is the setup command's.
        let daemon = statements.first { $0["Sid"] == "ReadTheEventsQueue" }?["Action"]?.strings ?? []
        #expect(Set(daemon) == ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"])
        #expect(!granted.contains("sqs:SendMessage"), "reclaw never sends to the queue: only EventBridge does")
    }

    @Test func everyStatementAllowsNamedActionsWithoutWildcards() {
        #expect(policy["Version"] == "2012-10-17")
        for s in statements {
            #expect(s["Effect"] == "Allow" && s["NotAction"] == nil && s["NotResource"] == nil, "\(s)")
            #expect(s["Action"]?.strings.allSatisfy { !$0.contains("*") } == true, "\(s)")
        }
        let sids = statements.compactMap { $0["Sid"]?.stringValue }
        #expect(sids.count == statements.count && Set(sids).count == sids.count)
    }

    @Test func ec2ChangesNeedReclawsTagOnWhatTheyTouch() {
        // Creates must tag what they create; every other change needs the reclaw tag already there.
        // The exceptions are resources that carry no tag of reclaw's: the AMI, key pair and network
        // interface RunInstances uses, and the rule objects AWS creates inside an owned group.
        let untaggable: Set<String> = ["arn:aws:ec2:*::image/*", "arn:aws:ec2:*:*:key-pair/*", "arn:aws:ec2:*:*:network-interface/*",
                                       "arn:aws:ec2:*:*:security-group-rule/*"]
        for s in statements {
            let ec2Changes = (s["Action"]?.strings ?? []).filter { $0.hasPrefix("ec2:") && !$0.hasPrefix("ec2:Describe") }
            guard !ec2Changes.isEmpty else { continue }
            let condition = s["Condition"]
            let tagged = condition?["Null"]?["aws:ResourceTag/reclaw:deployment"] == "false"
                || condition?["Null"]?["aws:RequestTag/reclaw:deployment"] == "false"
                || condition?["StringEquals"]?["ec2:CreateAction"] != nil
            let resources = Set(s["Resource"]?.strings ?? [])
            #expect(tagged || resources.isSubset(of: untaggable), "\(s["Sid"] ?? "?") changes EC2 resources without reclaw's tag")
            #expect(!resources.contains("*"), "\(s["Sid"] ?? "?")")
        }
    }

    @Test func reclawCannotRemoveItsOwnOwnershipTagsNotEvenByNamingNoKeys() throws {
        let untag = try #require(statements.first { $0["Action"]?.strings.contains("ec2:DeleteTags") == true })
        #expect(untag["Condition"]?["ForAllValues:StringNotLike"]?["aws:TagKeys"]?.strings == ["reclaw:*"])
        // ForAllValues holds for an empty set, and DeleteTags without keys deletes every tag: the
        // request must name its keys.
        #expect(untag["Condition"]?["Null"]?["aws:TagKeys"] == "false")
        #expect(untag["Condition"]?["Null"]?["aws:ResourceTag/reclaw:deployment"] == "false")
    }

    static let boundary = "arn:aws:iam::*:policy/reclaw-instance-boundary"

    @Test func rolesAreCreatedAndGivenPoliciesOnlyWithThePermissionsBoundary() throws {
        // Whatever a spec or a stolen reclaw credential puts on a role, the boundary caps it.
        for action in ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"] {
            let granting = statements.filter { $0["Action"]?.strings.contains(action) == true }
            #expect(!granting.isEmpty, "\(action) is not granted")
            for s in granting {
                #expect(s["Condition"]?["ArnLike"]?["iam:PermissionsBoundary"] == .string(Self.boundary), "\(s["Sid"] ?? "?") grants \(action) without the boundary")
            }
        }
        // Removing a boundary is never granted.
        #expect(!granted.contains("iam:DeleteRolePermissionsBoundary"))
    }

    @Test func onlyTheDefaultManagedPoliciesCanBeAttached() throws {
        let attach = try #require(statements.first { $0["Action"]?.strings.contains("iam:AttachRolePolicy") == true })
        #expect(attach["Action"]?.strings == ["iam:AttachRolePolicy"])
        let allowed = attach["Condition"]?["ArnEquals"]?["iam:PolicyARN"]?.strings ?? []
        #expect(allowed == DeploymentSpec.IAM().managedPolicyArns, "the policy's list and the spec's default differ")
    }

    @Test func theInstanceRoleIsPassedOnlyToEC2() throws {
        let pass = try #require(statements.first { $0["Action"]?.strings == ["iam:PassRole"] })
        // IfExists: AddRoleToInstanceProfile also needs PassRole, and passes the role to no service yet.
        #expect(pass["Condition"]?["StringEqualsIfExists"]?["iam:PassedToService"] == "ec2.amazonaws.com")
        #expect(pass["Resource"]?.strings == ["arn:aws:iam::*:role/reclaw/reclaw-*"])
    }

    @Test func theShippedBoundaryAllowsWhatTheSeedsInstanceNeedsAndNothingOfIAM() throws {
        let boundary = try DeployFiles.json("deploy/iam/reclaw-instance-boundary.json")
        let allowed = Set((boundary["Statement"]?.arrayValue ?? []).flatMap { $0["Action"]?.strings ?? [] })
        // The seed's inline policies (docs/security.md).
        let seed: Set<String> = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:ListFoundationModels", "bedrock:GetFoundationModel",
                                 "aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe", "ssm:GetParameter", "ssm:PutParameter"]
        #expect(seed.subtracting(allowed).isEmpty, "\(seed.subtracting(allowed).sorted())")
        #expect(!allowed.contains { $0.hasPrefix("iam:") || $0.hasPrefix("sts:") || $0.contains("*") })
        let marketplace = boundary["Statement"]?.arrayValue?.first { $0["Action"]?.strings.contains("aws-marketplace:Subscribe") == true }
        #expect(marketplace?["Condition"]?["StringEquals"]?["aws:CalledViaLast"] == "bedrock.amazonaws.com")
        let parameters = boundary["Statement"]?.arrayValue?.first { $0["Action"]?.strings.contains("ssm:PutParameter") == true }
        #expect(parameters?["Resource"]?.strings.contains("arn:aws:ssm:*:*:parameter/openclaw/*") == true)
        #expect(parameters?["Resource"]?.strings.contains("*") == false)
    }

    @Test func rolesProfilesAndPassRoleAreLimitedToReclawsPathAndNames() {
        for s in statements {
            let actions = s["Action"]?.strings ?? []
            let resources = s["Resource"]?.strings ?? []
            if actions.contains(where: { $0.hasPrefix("iam:") && !["iam:GetAccountAuthorizationDetails", "iam:ListInstanceProfiles"].contains($0) }) {
                #expect(resources.allSatisfy { $0 == "arn:aws:iam::*:role/reclaw/reclaw-*" || $0 == "arn:aws:iam::*:instance-profile/reclaw/reclaw-*" },
                        "\(s["Sid"] ?? "?"): \(resources)")
            }
            if actions.contains(where: { $0.hasPrefix("sts:AssumeRole") || $0 == "sts:SetSourceIdentity" }) {
                #expect(resources == ["arn:aws:iam::*:role/reclaw-*"], "\(s["Sid"] ?? "?")")
            }
        }
        let source = statements.first { $0["Action"]?.strings == ["sts:SetSourceIdentity"] }
        #expect(source?["Condition"]?["StringEquals"]?["sts:SourceIdentity"] == "reclaw")
    }

    @Test func parametersAreLimitedToTheDeploymentPrefixAndAWSsPublicParameters() {
        // DescribeParameters names no parameter (AWS authorizes it on "*" alone) and returns no value.
        for s in statements where (s["Action"]?.strings ?? []).contains(where: { $0.hasPrefix("ssm:") && $0.contains("Parameter") && $0 != "ssm:DescribeParameters" }) {
            #expect(s["Resource"]?.strings.allSatisfy { ["arn:aws:ssm:*:*:parameter/openclaw/*", "arn:aws:ssm:*:*:parameter/aws/service/*"].contains($0) } == true,
                    "\(s["Sid"] ?? "?")")
        }
        let writes = statements.filter { ($0["Action"]?.strings ?? []).contains("ssm:PutParameter") }
        #expect(writes.flatMap { $0["Resource"]?.strings ?? [] } == ["arn:aws:ssm:*:*:parameter/openclaw/*"])
    }

    @Test func thePolicyFitsInAManagedPolicy() throws {
        // IAM counts a managed policy's characters without white space: at most 6,144.
        let compact = try DeployFiles.text("deploy/iam/reclaw-policy.json").filter { !$0.isWhitespace }
        #expect(compact.count <= 6144, "\(compact.count) characters")
    }
}
