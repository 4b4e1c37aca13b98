import Foundation
import ReclawAWS
import ReclawJSON
import ReclawTestSupport
import Testing

/// deploy/cloudformation/reclaw-events.yaml: valid for cfn-lint, and the same queue, policy and
/// rule `reclaw events setup` makes.
@Suite struct EventsTemplateTests {
    let template: JSONValue

    init() throws {
        template = try #require(try DeployFiles.yaml("deploy/cloudformation/reclaw-events.yaml").first)
    }

    func resource(_ name: String) -> JSONValue? { template.at("Resources.\(name).Properties") }

    @Test func cfnLintFindsNothingIncludingInformationalChecks() async throws {
        let r = try await Command.run(["cfn-lint", "--include-checks", "I", "--", RepoPaths.path("deploy/cloudformation/reclaw-events.yaml")])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test func theRuleMatchesWhatTheSetupCommandsRuleMatches() throws {
        #expect(resource("Rule")?["EventPattern"] == EventsQueueSetup.eventPattern)
        #expect(resource("Rule")?["State"] == "ENABLED")
        #expect(resource("Rule")?["Name"] == ["Ref": "QueueName"], "the rule is named after the queue, as the setup command names it")
        let target = try #require(resource("Rule")?["Targets"]?.arrayValue?.first)
        #expect(target["Arn"] == ["Fn::GetAtt": ["Queue", "Arn"]])
        #expect(template.at("Parameters.QueueName.Default") == "reclaw-events", "the name the shipped IAM policy allows")
    }

    @Test func theQueueIsEncryptedAndSetAsTheSetupCommandSetsIt() throws {
        let queue = try #require(resource("Queue"))
        for (key, value) in EventsQueueSetup.queueAttributes {
            #expect(queue[key] == .string(value), "\(key)")
        }
        #expect(queue["SqsManagedSseEnabled"] == "true")
    }

    @Test func onlyTheRuleMaySendToTheQueue() throws {
        let queueArn: JSONValue = ["Fn::GetAtt": ["Queue", "Arn"]]
        let ruleArn: JSONValue = ["Fn::GetAtt": ["Rule", "Arn"]]
        let expected = EventsQueueSetup.queuePolicy(queueArn: "QUEUE", ruleArn: "RULE")
        let actual = try #require(resource("QueuePolicy")?["PolicyDocument"])
        // The same document, with the template's references where the command puts the ARNs.
        func substituted(_ v: JSONValue) -> JSONValue {
            switch v {
            case .string("QUEUE"): return queueArn
            case .string("RULE"): return ruleArn
            case .array(let a): return .array(a.map(substituted))
            case .object(let o): return .object(o.mapValues(substituted))
            default: return v
            }
        }
        #expect(actual == substituted(expected))
        #expect(resource("QueuePolicy")?["Queues"] == [["Ref": "Queue"]])
    }
}
