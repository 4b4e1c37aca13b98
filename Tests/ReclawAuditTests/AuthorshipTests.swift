import ReclawAudit
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import Testing

/// Which CloudTrail record can be the author of a drifted attribute: by what its call can change,
/// and on which resource it acts. Plain values, shaped as CloudTrail and the query API write them.
@Suite struct AuthorshipTests {
    static let group = "sg-0abc1234def567890"
    static let other = "sg-0fed9876cba543210"
    static let ingress = Authorship.Target(kind: .securityGroup, resourceID: group, attribute: "ingress")

    @Test func ingressIsChangedOnlyByTheCallsThatEditAGroupsInboundRules() {
        #expect(Authorship.eventNames(kind: .securityGroup, attribute: "ingress")
            == ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "ModifySecurityGroupRules"])
        #expect(Authorship.eventNames(kind: .securityGroup, attribute: "tags.team") == ["CreateTags", "DeleteTags"])
        #expect(Authorship.eventNames(kind: .role, attribute: "inlinePolicies") == ["PutRolePolicy", "DeleteRolePolicy"])
        #expect(Authorship.eventNames(kind: .parameter, attribute: "value") == ["PutParameter"])
        #expect(Authorship.eventNames(kind: .instance, attribute: "httpTokens") == ["ModifyInstanceMetadataOptions"])
        #expect(Authorship.eventNames(kind: .vpc, attribute: "cidr").isEmpty, "a replacement attribute has no author in place")
    }

    @Test func everyKindHasARowAndEveryRowNamesItsDeletion() {
        for kind in ResourceKind.allCases {
            #expect(!Authorship.eventNames(kind: kind, attribute: "(resource)").isEmpty, "\(kind)")
        }
    }

    @Test func aCreateTagsOnAnotherGroupWhoseTagValueHoldsTheIDIsNotTheAuthorOfAnIngressChange() {
        let nested: JSONValue = [
            "resourcesSet": ["items": [["resourceId": .string(Self.other)]]],
            "tagSet": ["items": [["key": "note", "value": .string("copied from \(Self.group)")]]],
        ]
        let query: JSONValue = ["ResourceId.1": .string(Self.other), "Tag.1.Key": "note", "Tag.1.Value": .string(Self.group)]
        for parameters in [nested, query] {
            #expect(Authorship.targets(parameters) == [Self.other])
            #expect(!Authorship.isAuthor(eventName: "CreateTags", requestParameters: parameters, of: Self.ingress))
        }
        let tag = Authorship.Target(kind: .securityGroup, resourceID: Self.other, attribute: "tags.note")
        #expect(Authorship.isAuthor(eventName: "CreateTags", requestParameters: nested, of: tag))
    }

    @Test func anAuthorizeSecurityGroupIngressOnThatGroupIsTheAuthor() {
        let nested: JSONValue = [
            "groupId": .string(Self.group),
            "ipPermissions": ["items": [["ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ["items": [["cidrIp": "0.0.0.0/0"]]]]]],
        ]
        let query: JSONValue = ["GroupId": .string(Self.group), "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "22"]
        for parameters in [nested, query] {
            #expect(Authorship.isAuthor(eventName: "AuthorizeSecurityGroupIngress", requestParameters: parameters, of: Self.ingress))
            #expect(!Authorship.isAuthor(eventName: "AuthorizeSecurityGroupEgress", requestParameters: parameters, of: Self.ingress))
        }
        let wrapped: JSONValue = ["ModifySecurityGroupRulesRequest": ["GroupId": .string(Self.group), "SecurityGroupRule": ["SecurityGroupRuleId": "sgr-0123456789abcdef0"]]]
        #expect(Authorship.isAuthor(eventName: "ModifySecurityGroupRules", requestParameters: wrapped, of: Self.ingress))
    }

    @Test func aRuleOnAnotherGroupThatNamesThisGroupAsItsPeerIsNotTheAuthor() {
        let peer: JSONValue = [
            "groupId": .string(Self.other),
            "ipPermissions": ["items": [["ipProtocol": "tcp", "groups": ["items": [["groupId": .string(Self.group)]]]]]],
        ]
        #expect(Authorship.targets(peer) == [Self.other])
        #expect(!Authorship.isAuthor(eventName: "AuthorizeSecurityGroupIngress", requestParameters: peer, of: Self.ingress))
    }

    @Test func rolesParametersAndInstancesAreTargetedByTheirOwnParameters() {
        #expect(Authorship.targets(["roleName": "reclaw-alpha-instance", "policyName": "bedrock", "policyDocument": "{}"]) == ["reclaw-alpha-instance"])
        #expect(Authorship.targets(["Name": "/openclaw/alpha/model", "Value": "x", "Type": "String"]) == ["/openclaw/alpha/model"])
        #expect(Authorship.targets(["instancesSet": ["items": [["instanceId": "i-0123456789abcdef0"]]]]) == ["i-0123456789abcdef0"])
        #expect(Authorship.targets(["AssociationId": "rtbassoc-0123456789abcdef0"]) == ["rtbassoc-0123456789abcdef0"])
        #expect(Authorship.targets(nil).isEmpty && Authorship.targets("text").isEmpty)
    }

    @Test func aLoggedValueIsCutToABoundedLength() {
        #expect(LoggedText.bounded("CreateTags") == "CreateTags")
        let huge = String(repeating: "A", count: 200_000)
        let cut = LoggedText.bounded(huge)
        #expect(cut.utf8.count < LoggedText.limit + 40)
        #expect(cut.hasPrefix(String(repeating: "A", count: LoggedText.limit)) && cut.hasSuffix("(199744 more bytes)"))
        let accents = LoggedText.bounded(String(repeating: "é", count: 300), limit: 5)
        #expect(accents.hasPrefix("éé…"), "a character is never split: \(accents)")
        #expect(LoggedText.bounded(nil as String?) == "")
    }
}
