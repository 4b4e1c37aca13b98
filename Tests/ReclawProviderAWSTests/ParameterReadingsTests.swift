import Foundation
import ReclawAWS
import ReclawEngine
import ReclawProviderAWS
import ReclawTestSupport
import Testing

/// Parameter values are read again only when DescribeParameters says the parameter changed, and
/// every change a person can make is still seen at the next observation.
@Suite struct ParameterReadingsTests {
    /// The names each GetParameters call of this harness's key asked for, in order.
    static func valueReads(_ h: Harness, key: String) async throws -> [[String]] {
        try await h.emulator.requests(service: "ssm", operation: "GetParameters").filter { $0["accessKeyId"] as? String == key }.map { ($0["names"] as? [String] ?? []).sorted() }
    }

    func drift(_ p: PlannedDeployment) -> [String] { p.plan.drift.map { "\($0.key) \($0.attribute)" }.sorted() }

    @Test func noObservationAfterTheApplyReadsAValueAgainAndAHandEditIsReadAtTheNextOne() async throws {
        let key = "AKIDREAD" + String(UUID().uuidString.filter(\.isHexDigit).prefix(12)).uppercased()
        let h = Harness(accessKey: key)
        let spec = testSpec("readings", region: "eu-north-1")
        // The apply reads back each value it writes (one call per write, none per pass).
        try await h.apply(spec)
        let before = try await Self.valueReads(h, key: key).count
        let quiet = try await h.plan(spec)
        #expect(!quiet.plan.hasChanges && quiet.plan.drift.isEmpty)
        let reads = try await Self.valueReads(h, key: key).dropFirst(before)
        // Only the image reference is read: no value of the deployment's own parameters.
        #expect(reads.allSatisfy { $0.allSatisfy { $0.hasPrefix("/aws/service/") } }, "\(Array(reads))")

        // Someone overwrites the model: a new version, read at the next observation.
        let model = "/openclaw/\(spec.name)/model"
        _ = try await asSomeoneElse(h.emulator, """
        client("ssm", "eu-north-1").put_parameter(Name=sys.argv[2], Value="edited-by-hand", Type="String", Overwrite=True)
        """, [model])
        let edited = try await h.plan(spec)
        #expect(drift(edited) == ["param-model value"], "\(PlanRenderer.text(edited.plan))")
        #expect(try await Self.valueReads(h, key: key).last?.contains(model) == true)
    }

    @Test func aParameterDeletedAndMadeAgainAtTheSameVersionIsReadAgain() async throws {
        let h = Harness()
        let spec = testSpec("remade", region: "eu-north-1")
        try await h.apply(spec)
        #expect(try await h.plan(spec).plan.drift.isEmpty)
        // Deleted and made again by hand: version 1 again, as reclaw's own was, with another value.
        let version = "/openclaw/\(spec.name)/version"
        _ = try await asSomeoneElse(h.emulator, """
        ssm = client("ssm", "eu-north-1")
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=sys.argv[2])["TagList"]
        ssm.delete_parameter(Name=sys.argv[2])
        ssm.put_parameter(Name=sys.argv[2], Value="1999.1.1", Type="String", Tags=tags)
        assert ssm.get_parameter(Name=sys.argv[2])["Parameter"]["Version"] == 1
        """, [version])
        let remade = try await h.plan(spec)
        #expect(drift(remade) == ["param-version value"], "\(PlanRenderer.text(remade.plan))")
    }

    @Test func aGatewayTokenTurnedIntoAStringByHandIsReportedButItsValueIsNeverKept() async throws {
        let h = Harness()
        let spec = testSpec("token", region: "eu-north-1")
        try await h.apply(spec)
        let token = "/openclaw/\(spec.name)/gateway-token"
        _ = try await asSomeoneElse(h.emulator, """
        client("ssm", "eu-north-1").put_parameter(Name=sys.argv[2], Value="token-known-to-someone", Type="String", Overwrite=True)
        """, [token])
        let planned = try await h.plan(spec)
        #expect(drift(planned).contains("param-gateway-token type"), "\(PlanRenderer.text(planned.plan))")
        let kept = try String(contentsOfFile: h.dir.file("state") + "/parameter-readings.json", encoding: .utf8)
        #expect(!kept.contains("token-known-to-someone") && kept.contains("/model"))
    }

    @Test func anUnreadableCacheOfValuesIsIgnoredAndTheValuesAreReadAgain() async throws {
        let h = Harness()
        let spec = testSpec("garbled", region: "eu-north-1")
        try await h.apply(spec)
        _ = try await h.plan(spec)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: h.dir.file("state") + "/parameter-readings.json"))
        let fresh = Harness(emulator: h.emulator, state: h.dir.file("state"))
        let planned = try await fresh.plan(spec)
        #expect(!planned.plan.hasChanges && planned.plan.drift.isEmpty, "\(PlanRenderer.text(planned.plan))")
        // The values read again are kept in a readable file.
        let kept = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.dir.file("state") + "/parameter-readings.json")))
        #expect((kept as? [String: Any])?.count == 3)
    }
}

/// Which values a stamp lets an observation keep, as plain values.
@Suite struct ParameterReadingsSplitTests {
    let arn = "arn:aws:ssm:eu-north-1:123456789012:parameter/openclaw/a/model"

    @Test func aValueIsKeptOnlyWhileItsVersionAndModificationTimeAreTheSame() async {
        let readings = ParameterReadings()
        let stamp = ParameterStamp(name: "/openclaw/a/model", type: "String", version: 3, lastModified: 1000)
        #expect(await readings.split([arn: stamp]).unread == [arn])
        await readings.store([arn: (stamp, "claude")])
        let kept = await readings.split([arn: stamp])
        #expect(kept.current == [arn: "claude"] && kept.unread.isEmpty)
        var newer = stamp
        newer.version = 4
        #expect(await readings.split([arn: newer]).unread == [arn])
        var remade = stamp
        remade.lastModified = 2000
        #expect(await readings.split([arn: remade]).unread == [arn])
    }

    @Test func aStampWithoutAVersionOrATimeVouchesForNothing() async {
        let readings = ParameterReadings()
        for stamp in [ParameterStamp(name: "/openclaw/a/model", type: "String", version: 0, lastModified: 1000),
                      ParameterStamp(name: "/openclaw/a/model", type: "String", version: 3, lastModified: 0)] {
            await readings.store([arn: (stamp, "claude")])
            #expect(await readings.split([arn: stamp]).unread == [arn], "\(stamp)")
        }
    }

    @Test func aSecureStringIsNeverToBeRead() async {
        let readings = ParameterReadings()
        let token = ParameterStamp(name: "/openclaw/a/gateway-token", type: "SecureString", version: 1, lastModified: 1)
        let split = await readings.split([arn: token])
        #expect(split.current.isEmpty && split.unread.isEmpty)
    }
}
