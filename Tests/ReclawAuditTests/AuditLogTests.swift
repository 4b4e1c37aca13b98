import Foundation
import ReclawAudit
import ReclawTestSupport
import Testing

@Suite struct AuditLogTests {
    func event(_ i: Int) -> AuditEvent {
        AuditEvent(type: .awsApiCall, deployment: "alpha", revision: "abc", planID: "p", eventSource: "ec2.amazonaws.com",
                   eventName: "CreateVpc", awsRegion: "us-east-1", requestID: "req-\(i)", userAgent: "reclaw/0.1.0",
                   resources: [.init(type: "AWS::EC2::VPC", name: "vpc-\(i)")])
    }

    @Test func eventsFollowTheSchemaWithNullsForAbsentCoreFields() throws {
        let dir = TemporaryDirectory()
        let log = AuditLog(path: dir.file("audit.log"))
        try log.append(AuditEvent(type: .planComputed, deployment: "alpha"))
        let line = try String(contentsOfFile: dir.file("audit.log"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        for key in ["eventVersion", "eventID", "eventTime", "eventType", "deployment", "revision", "planID", "eventSource", "eventName",
                    "awsRegion", "requestID", "userAgent", "errorCode", "errorMessage", "resources"] {
            #expect(object.keys.contains(key), "\(key)")
        }
        #expect(object["errorCode"] is NSNull && object["eventVersion"] as? String == "1.0")
        #expect((object["eventTime"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        #expect(line.hasSuffix("}\n") && line.split(separator: "\n").count == 1)
    }

    @Test func aTornLastLineIsSkippedAndFencedOffFromTheNextAppend() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("audit.log")
        try AuditLog(path: path).append(event(1))
        // A crash in the middle of a write leaves half a line.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"eventVersion":"1.0","eventID":"torn"#.utf8))
        try handle.close()
        #expect(AuditLog.read(path: path).map(\.requestID) == ["req-1"])
        try AuditLog(path: path).append(event(2))
        #expect(AuditLog.read(path: path).map(\.requestID) == ["req-1", "req-2"])
    }

    @Test func rotationKeepsEveryEventAcrossFiles() throws {
        let dir = TemporaryDirectory()
        let log = AuditLog(path: dir.file("audit.log"), maxBytes: 2_000, keep: 50)
        for i in 0..<100 { try log.append(event(i)) }
        #expect(FileManager.default.fileExists(atPath: dir.file("audit.log.1")))
        #expect(log.read().map(\.requestID) == (0..<100).map { "req-\($0)" })
    }

    @Test func rotationDropsOnlyBeyondTheKeptFiles() throws {
        let dir = TemporaryDirectory()
        let log = AuditLog(path: dir.file("audit.log"), maxBytes: 2_000, keep: 2)
        for i in 0..<100 { try log.append(event(i)) }
        let kept = log.read().compactMap(\.requestID)
        #expect(kept.last == "req-99" && kept == kept.sorted { Int($0.dropFirst(4))! < Int($1.dropFirst(4))! })
        #expect(!FileManager.default.fileExists(atPath: dir.file("audit.log.3")))
    }

    @Test func concurrentAppendersNeverInterleaveLines() async throws {
        let dir = TemporaryDirectory()
        let log = AuditLog(path: dir.file("audit.log"))
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<200 { group.addTask { try? log.append(self.event(i)) } }
        }
        let lines = try String(contentsOfFile: dir.file("audit.log"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 200)
        #expect(Set(log.read().compactMap(\.requestID)).count == 200)
    }

    @Test func requestIDsAreReclawsFootprints() throws {
        let dir = TemporaryDirectory()
        let log = AuditLog(path: dir.file("audit.log"))
        for i in 0..<3 { try log.append(event(i)) }
        try log.append(AuditEvent(type: .planComputed, requestID: "not-a-call"))
        #expect(log.requestIDs() == ["req-0", "req-1", "req-2"])
    }

    @Test func aRequestIDIsKnownAsReclawsOwnByLookupAndAfterARestart() throws {
        let dir = TemporaryDirectory()
        let log = AuditLog(path: dir.file("audit.log"))
        try log.append(event(0))
        #expect(log.madeRequest("req-0") && !log.madeRequest("req-1") && !log.madeRequest("not-a-call"))
        try log.append(event(1))
        #expect(log.madeRequest("req-1"), "an id appended after the first lookup")
        #expect(AuditLog(path: dir.file("audit.log")).madeRequest("req-1"), "a new process reads the ids back from the log")
    }
}
