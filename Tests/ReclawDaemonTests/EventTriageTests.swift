import Foundation
import ReclawAudit
import ReclawDaemon
import ReclawEvents
import ReclawJSON
import Testing

/// Reading CloudTrail's events as EventBridge delivers them, and deciding what each means: plain
/// values, shaped as AWS documents them.
@Suite struct EventTriageTests {
    static func envelope(source: String = "aws.ec2", detail: JSONValue, resources: [JSONValue] = []) -> String {
        JSONValue.object([
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
            "source": .string(source), "account": "111122223333", "time": "2026-11-25T01:02:05Z", "region": "eu-west-1",
            "resources": .array(resources), "detail": detail,
        ]).description
    }

    static let alice: JSONValue = [
        "type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice",
        "accountId": "111122223333", "accessKeyId": "AKIAALICE", "userName": "alice",
    ]

    /// AuthorizeSecurityGroupIngress as CloudTrail records it (nested, camel-cased parameters).
    static func ingress(identity: JSONValue = alice, userAgent: String = "aws-cli/2.15.0 Python/3.11", requestID: String = "req-1",
                        error: String? = nil) -> String {
        var detail: [String: JSONValue] = [
            "eventVersion": "1.09", "userIdentity": identity, "eventTime": "2026-11-25T01:02:03Z",
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": "eu-west-1",
            "sourceIPAddress": "198.51.100.7", "userAgent": .string(userAgent),
            "requestParameters": [
                "groupId": "sg-0abc1234def567890",
                "ipPermissions": ["items": [["ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                             "ipRanges": ["items": [["cidrIp": "0.0.0.0/0"]]]]]],
            ],
            "responseElements": [
                "_return": true,
                "securityGroupRuleSet": ["items": [["groupId": "sg-0abc1234def567890", "securityGroupRuleId": "sgr-0123456789abcdef0"]]],
            ],
            "requestID": .string(requestID), "eventID": "3f0a6e0c-1111-2222-3333-444455556666", "readOnly": false,
            "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333",
        ]
        if let error { detail["errorCode"] = .string(error) }
        return envelope(detail: .object(detail))
    }

    @Test func anEventBridgeEnvelopeGivesTheCallsAuthorAndEveryNameItMentions() throws {
        let event = try APICallEvent.parse(Self.ingress())
        #expect(event.eventName == "AuthorizeSecurityGroupIngress" && event.eventSource == "ec2.amazonaws.com")
        #expect(event.requestID == "req-1" && event.awsRegion == "eu-west-1" && !event.readOnly && event.errorCode == nil)
        #expect(event.names.contains("sg-0abc1234def567890") && event.names.contains("sgr-0123456789abcdef0"))
        let who = event.attribution
        #expect(who.userIdentityArn == "arn:aws:iam::111122223333:user/alice" && who.accessKeyId == "AKIAALICE")
        #expect(who.sourceIPAddress == "198.51.100.7" && who.cloudTrailEventID == "3f0a6e0c-1111-2222-3333-444455556666")
        #expect(who.eventName == "AuthorizeSecurityGroupIngress" && who.eventTime == "2026-11-25T01:02:03.000Z")
        #expect(who.actorType == "human")
    }

    @Test func roleAndParameterNamesAreFoundInParametersAndInsideARNs() throws {
        let put = try APICallEvent.parse(Self.envelope(source: "aws.iam", detail: [
            "userIdentity": Self.alice, "eventTime": "2026-11-25T01:02:03Z", "eventSource": "iam.amazonaws.com", "eventName": "PutRolePolicy",
            "requestParameters": ["roleName": "reclaw-alpha-instance", "policyName": "bedrock", "policyDocument": .string(String(repeating: "x", count: 5000))],
            "responseElements": nil, "eventID": "e-2",
        ]))
        #expect(put.names == ["bedrock", "reclaw-alpha-instance"], "a long policy document is not read as a name")
        let arns = try APICallEvent.parse(Self.envelope(source: "aws.ssm", detail: [
            "userIdentity": Self.alice, "eventTime": "2026-11-25T01:02:03Z", "eventSource": "ssm.amazonaws.com", "eventName": "LabelParameterVersion",
            "requestParameters": ["name": "arn:aws:ssm:eu-west-1:111122223333:parameter/openclaw/alpha/model"],
            "eventID": "e-3",
        ], resources: ["arn:aws:iam::111122223333:role/reclaw/reclaw-alpha-instance", "arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0"]))
        #expect(arns.names.contains("/openclaw/alpha/model"))
        #expect(arns.names.contains("reclaw-alpha-instance") && arns.names.contains("i-0123456789abcdef0"))
    }

    @Test func whatIsNotACloudTrailAPICallEventIsMalformed() {
        #expect(throws: APICallEvent.Malformed.self) { try APICallEvent.parse("not json") }
        #expect(throws: APICallEvent.Malformed.self) { try APICallEvent.parse(#"{"detail-type":"EC2 Instance State-change Notification","detail":{}}"#) }
        #expect(throws: APICallEvent.Malformed.self) { try APICallEvent.parse(#"{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"X"}}"#) }
        #expect(throws: APICallEvent.Malformed.self) { try APICallEvent.parse(#"{"detail-type":"AWS API Call via CloudTrail"}"#) }
    }

    static func triage(_ body: String, own: Set<String> = [], index: [String: String] = ["sg-0abc1234def567890": "alpha"],
                       routing: [String: EventRouting] = ["alpha": .here]) throws -> EventTriage.Outcome {
        EventTriage.triage(try APICallEvent.parse(body), madeRequest: { own.contains($0) }, owner: { index[$0] }, routing: { routing[$0] ?? .nowhere })
    }

    @Test func aChangeToAKnownResourceWakesItsDeployment() throws {
        #expect(try Self.triage(Self.ingress()) == .notice(["alpha": ["sg-0abc1234def567890"]]))
    }

    @Test func reclawsOwnCallsAreKnownByRequestIDAlone() throws {
        #expect(try Self.triage(Self.ingress(requestID: "mine"), own: ["mine"]) == .ignore(.own))
        // Anyone can send reclaw's User-Agent: a call whose request id reclaw did not make is someone else's.
        let forged = try Self.triage(Self.ingress(userAgent: "reclaw/0.1.0 (deployment/alpha; plan/p) replica/a"))
        #expect(forged == .notice(["alpha": ["sg-0abc1234def567890"]]))
        #expect(try Self.triage(Self.ingress(userAgent: "reclaw/0.1.0", requestID: "mine"), own: ["mine"]) == .ignore(.own))
    }

    @Test func anEventsTargetsAreWhatItsRequestActsOnNotEveryNameItMentions() throws {
        #expect(try APICallEvent.parse(Self.ingress()).targets == ["sg-0abc1234def567890"])
        let tags = try APICallEvent.parse(Self.envelope(detail: [
            "userIdentity": Self.alice, "eventTime": "2026-11-25T01:02:03Z", "eventSource": "ec2.amazonaws.com", "eventName": "CreateTags",
            "requestParameters": ["resourcesSet": ["items": [["resourceId": "sg-0fed9876cba543210"]]],
                                  "tagSet": ["items": [["key": "note", "value": "sg-0abc1234def567890"]]]],
            "eventID": "e-4",
        ]))
        #expect(tags.names.contains("sg-0abc1234def567890"), "it mentions the group, so its check is woken")
        #expect(tags.targets == ["sg-0fed9876cba543210"])
    }

    @Test func failedCallsUnknownResourcesAndGoneDeploymentsWakeNothing() throws {
        #expect(try Self.triage(Self.ingress(error: "UnauthorizedOperation")) == .ignore(.failed))
        #expect(try Self.triage(Self.ingress(), index: [:]) == .ignore(.unknownResource))
        #expect(try Self.triage(Self.ingress(), routing: [:]) == .ignore(.noDeployment))
        #expect(try Self.triage(Self.ingress(), routing: ["alpha": .elsewhere]) == .elsewhere(["alpha"]))
    }

    @Test func theActorIsAPersonAnotherAutomationOrAWSItself() {
        func type(_ identity: JSONValue, ua: String? = "aws-cli/2") -> ActorType? {
            ActorType.of(userIdentity: identity, sourceIPAddress: "198.51.100.7", userAgent: ua)
        }
        #expect(type(Self.alice) == .human)
        #expect(type(["type": "Root", "arn": "arn:aws:iam::111122223333:root"]) == .human)
        #expect(type(["type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice"]) == .human)
        #expect(type(["type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice"], ua: "AWS Internal") == .human)
        #expect(type(["type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ci-deployer/run-42"]) == .automation)
        #expect(type(["type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "invokedBy": "cloudformation.amazonaws.com"]) == .automation)
        #expect(type(["type": "AWSService", "invokedBy": "ec2.amazonaws.com"]) == .aws)
        #expect(type(["type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
                      "sessionContext": ["sessionIssuer": ["arn": "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"]]]) == .aws)
        #expect(type(["arn": "no type"]) == nil)
    }
}
