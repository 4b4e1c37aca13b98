import Foundation

/// The last revision of a git source whose signature verified, and who signed it: kept in the
/// state directory so that after a restart it stays in force while the tip is refused, and
/// `--verify-history` checks the commits since it.
public struct VerifiedRevision: Sendable, Codable, Equatable {
    /// The source it belongs to (its URL without credentials) and the ref followed.
    public var source: String
    public var ref: String
    public var revision: String
    public var signerIdentity: String
    public var signerKey: String
    /// `ssh` or `openpgp`.
    public var signatureType: String
    public var verifiedAt: Date

    public init(source: String, ref: String, revision: String, signerIdentity: String, signerKey: String,
                signatureType: String, verifiedAt: Date) {
        self.source = source
        self.ref = ref
        self.revision = revision
        self.signerIdentity = signerIdentity
        self.signerKey = signerKey
        self.signatureType = signatureType
        self.verifiedAt = verifiedAt
    }

    /// Whether it was verified for this source and ref (another source's revision means nothing here).
    public func belongs(to source: String, ref: String) -> Bool { self.source == source && self.ref == ref }
}

extension StateStore {
    /// `source/verified-revision.json` in the state directory, 0600.
    public var verifiedRevisionPath: String { directory + "/source/verified-revision.json" }

    /// The last verified revision, nil when none was recorded; a file that exists but cannot be
    /// read (a link, a torn or foreign file) is an error naming it.
    public func loadVerifiedRevision() throws(StateError) -> VerifiedRevision? {
        let path = verifiedRevisionPath
        try PrivateFiles.checkNotLinked(directory)
        try PrivateFiles.checkNotLinked(directory + "/source")
        guard let bytes = try PrivateFiles.read(path) else { return nil }
        do {
            return try Self.decoder.decode(VerifiedRevision.self, from: Data(bytes))
        } catch {
            throw .corrupt("\(path) is not a readable verified-revision file: \(error)", path: path)
        }
    }

    /// Records the last verified revision durably (a crash leaves the old record or the new one).
    public func saveVerifiedRevision(_ record: VerifiedRevision) throws(StateError) {
        let path = verifiedRevisionPath
        let data: Data
        do { data = try Self.encoder.encode(record) } catch { throw .io("cannot encode \(path): \(error)", path: path) }
        try DurableFile.write(data, to: path)
    }
}
