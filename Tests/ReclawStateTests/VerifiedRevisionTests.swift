import Foundation
import ReclawState
import ReclawTestSupport
import Testing

/// The last verified revision in the state directory: written 0600 and durably, read back, and
/// never read through a link or trusted when it does not decode.
@Suite struct VerifiedRevisionTests {
    let record = VerifiedRevision(source: "https://git.example.com/infra.git", ref: "main", revision: "4f1c2d",
                                  signerIdentity: "alice@example.com", signerKey: "SHA256:abc", signatureType: "ssh",
                                  verifiedAt: Date(timeIntervalSince1970: 1_000))

    @Test func aRecordedRevisionLoadsBackFromAPrivateFile() throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        #expect(try store.loadVerifiedRevision() == nil)
        try store.saveVerifiedRevision(record)
        #expect(try store.loadVerifiedRevision() == record)
        var info = stat()
        #expect(stat(store.verifiedRevisionPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(record.belongs(to: "https://git.example.com/infra.git", ref: "main"))
        #expect(!record.belongs(to: "https://git.example.com/infra.git", ref: "release"))
    }

    @Test func aCorruptOrLinkedRecordIsAnErrorNamingTheFile() throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        _ = dir.write("source/verified-revision.json", "{torn")
        #expect { try store.loadVerifiedRevision() } throws: { ($0 as? StateError)?.code == .corrupt && "\($0)".contains(store.verifiedRevisionPath) }
        try FileManager.default.removeItem(atPath: store.verifiedRevisionPath)
        let elsewhere = dir.write("elsewhere.json", "{}")
        try FileManager.default.createSymbolicLink(atPath: store.verifiedRevisionPath, withDestinationPath: elsewhere)
        #expect { try store.loadVerifiedRevision() } throws: { ($0 as? StateError)?.code == .unsafeFile }
        #expect { try store.saveVerifiedRevision(record) } throws: { ($0 as? StateError)?.code == .unsafeFile }
    }
}
