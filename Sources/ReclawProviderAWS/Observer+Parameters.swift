import Foundation
import ReclawAWS

/// The parameters' part of an observation: their types and values, and the AMIs behind the
/// `ssm:` image references, in as few calls as AWS allows.
extension AWSObserver {
    /// The type and value of each owned parameter (by ARN; a parameter gone since it was listed is
    /// left out) and the AMI behind each `ssm:` image reference.
    ///
    /// With `parameterReadings`, DescribeParameters stamps every owned parameter (fifty a call) and
    /// GetParameters (ten names a call) reads the image references and only the String parameters
    /// whose stamp changed since their value was read: a no-op pass reads no value again, and a
    /// value edited by hand has a new version, so it is read at the next observation. Without,
    /// GetParameters reads every one. The values of `secret` (ARNs of parameters whose value is
    /// a secret, such as a gateway token turned into a String by hand) are read but never kept.
    func parameterValues(of arns: [String], secret: Set<String> = [], aliases: Set<String>,
                         _ ssm: SSMClient) async throws(AWSError) -> (values: [String: SSMParameter], amis: [String: String]) {
        // Names are unique within the account and region one observer reads.
        var arnOf: [String: String] = [:]
        for arn in arns { if let name = Self.parameterName(arn: arn) { arnOf[name] = arn } }
        var values: [String: SSMParameter] = [:]
        var unread = arnOf.keys.sorted()
        if let readings = parameterReadings {
            var stamps: [String: ParameterStamp] = [:]
            for stamp in try await ssm.stamps(unread) { if let arn = arnOf[stamp.name] { stamps[arn] = stamp } }
            let (current, changed) = await readings.split(stamps)
            for (arn, stamp) in stamps {
                // A SecureString's value is never read: its type is all there is to compare.
                guard stamp.type == "SecureString" || current[arn] != nil else { continue }
                values[arn] = SSMParameter(name: stamp.name, type: stamp.type, value: current[arn], version: stamp.version, arn: arn,
                                           lastModified: stamp.lastModified)
            }
            unread = changed.compactMap { Self.parameterName(arn: $0) }
        }
        let imageNames = aliases.sorted().map { String($0.dropFirst(4)) }
        var read: [String: (stamp: ParameterStamp, value: String)] = [:]
        var images: [String: String] = [:]
        for p in try await ssm.parameters(unread + imageNames) {
            if let arn = arnOf[p.name] {
                values[arn] = p
                if let value = p.value, !secret.contains(arn) { read[arn] = (p.stamp, value) }
            } else if let value = p.value {
                images[p.name] = value
            }
        }
        await parameterReadings?.store(read)
        let amis = Dictionary(uniqueKeysWithValues: aliases.compactMap { a in images[String(a.dropFirst(4))].map { (a, $0) } })
        return (values, amis)
    }
}
