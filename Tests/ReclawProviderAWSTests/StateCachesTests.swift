import Foundation
import ReclawEngine
@testable import ReclawProviderAWS
import ReclawTestSupport
import Testing

/// What a new process learns from the state directory instead of asking AWS again: the account of
/// its credentials, the AMIs it described, the parameter values it read.
@Suite struct StateCachesTests {
    @Test func aNewProcessOnTheSameStateAsksNeitherTheAccountNorTheImageNorAnyValueAgain() async throws {
        let key = "AKIDSTAT" + String(UUID().uuidString.filter(\.isHexDigit).prefix(12)).uppercased()
        let first = Harness(accessKey: key)
        let spec = testSpec("caches", region: "eu-north-1")
        try await first.apply(spec)
        _ = try await first.plan(spec)
        func count(_ service: String, _ operation: String) async throws -> Int {
            try await first.emulator.requests(service: service, operation: operation).filter { $0["accessKeyId"] as? String == key }.count
        }
        let before = (try await count("sts", "GetCallerIdentity"), try await count("ec2", "DescribeImages"), try await count("ssm", "GetParameters"))
        #expect(before.0 >= 1 && before.1 >= 1)
        // A second reconciler on the same state directory, as `reclaw plan` after the daemon.
        let second = Harness(emulator: first.emulator, accessKey: key, state: first.dir.file("state"))
        let planned = try await second.plan(spec)
        #expect(!planned.plan.hasChanges && planned.plan.drift.isEmpty, "\(PlanRenderer.text(planned.plan))")
        #expect(try await count("sts", "GetCallerIdentity") == before.0)
        #expect(try await count("ec2", "DescribeImages") == before.1)
        // One GetParameters: the image reference alone.
        #expect(try await count("ssm", "GetParameters") == before.2 + 1)
    }
}

/// A role's account is read from its ARN, never guessed from anything else.
@Suite struct RoleAccountTests {
    @Test func theAccountOfARoleIsTheTwelveDigitsOfItsARN() {
        #expect(AccountCache.account(ofRole: "arn:aws:iam::123456789012:role/reclaw-deployer") == "123456789012")
        #expect(AccountCache.account(ofRole: "arn:aws-cn:iam::123456789012:role/path/reclaw-x") == "123456789012")
    }

    @Test func anythingButARoleARNHasNoAccountAndIsAskedOfSTS() {
        for arn in ["", "reclaw-deployer", "arn:aws:iam::12345:role/x", "arn:aws:iam::123456789012:user/x", "arn:aws:sts::123456789012:assumed-role/x/y",
                    "arn:aws:iam::12345678901a:role/x"] {
            #expect(AccountCache.account(ofRole: arn) == nil, "\(arn)")
        }
    }
}
