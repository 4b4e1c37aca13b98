import Crypto
import Foundation
import ReclawAWS
import ReclawCatalog
import ReclawEngine
import ReclawJSON

/// SSM parameters. The gateway token is 48 hex characters from a CSPRNG, written once as a
/// SecureString and never read, shown or overwritten.
extension AWSDriver {
    static func newGatewayToken() -> String {
        SymmetricKey(size: .init(bitCount: 192)).withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
    }

    func createParameter(_ d: DesiredComponent, _ c: StepContext) async throws -> String {
        let name = d.name!
        let type = d.string(.type) ?? "String"
        let value = d[.value]?.sensitive == true ? Self.newGatewayToken() : (d.string(.value) ?? "")
        do {
            _ = try await ssm(c).putParameter(name: name, value: value, type: type, overwrite: false, tags: d.tags,
                                              description: "reclaw deployment \(c.deployment): \(d.key)")
        } catch {
            guard error.code == "ParameterAlreadyExists" else { throw error }
            // Made with this component's tags since the observation (nothing is recorded for it): this
            // create's own first attempt, whose answer was lost and which libcurl or reclaw resent.
            if Self.madeBy(c, d, tags: try await ssm(c).tags(parameter: name)) { return name }
            throw AWSError(kind: .service, code: "NotOwned", message: "the SSM parameter \(name) already exists and is not managed by reclaw (no \(OwnershipTags.deployment) tag); reclaw will not overwrite it",
                           service: "ssm", operation: "PutParameter", region: c.region, requestID: error.requestID)
        }
        if type != "SecureString" { await recordWritten(name, c) }
        return name
    }

    func updateParameter(_ d: DesiredComponent, _ r: ObservedResource, _ changed: Set<String>, _ c: StepContext) async throws {
        guard changed.contains(.value), d[.value]?.sensitive != true, let value = d.string(.value) else { return }
        _ = try await ssm(c).putParameter(name: r.id, value: value, type: d.string(.type) ?? "String", overwrite: true, tags: [:])
        await recordWritten(r.id, c)
    }

    /// Reads back a value just written, with the version and time AWS gave it, so the next
    /// observation finds it current instead of reading it (one call per write, none per pass). It
    /// is only a cache: a read that fails is left to the next observation.
    func recordWritten(_ name: String, _ c: StepContext) async {
        guard let readings = parameterReadings else { return }
        do {
            for p in try await ssm(c).parameters([name]) {
                if let arn = p.arn, let value = p.value { await readings.store([arn: (p.stamp, value)]) }
            }
        } catch {
            logger.debug("a parameter just written was not read back; the next observation reads it",
                         metadata: ["deployment": "\(c.deployment)", "parameter": "\(name)", "aws.error_code": "\(error.code)"])
        }
    }
}
