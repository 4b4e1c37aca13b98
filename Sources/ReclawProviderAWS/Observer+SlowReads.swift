import Foundation
import ReclawAWS
import ReclawJSON

/// The per-resource reads of an observation: attributes AWS returns one resource (and one
/// attribute) per call, kept in the `SlowAttributeCache` and read again only when stale.
extension AWSObserver {
    /// Instance profiles' tags (AWS's ListInstanceProfiles leaves them out): from the cache as its
    /// schedule says, else read with ListInstanceProfileTags, `readConcurrency` at a time, and kept.
    /// Failures by name.
    func profileTags(_ names: [String], _ iam: IAMClient) async -> ([String: [String: String]], [String: AWSError]) {
        var known: [String: [String: String]] = [:]
        var stale = names
        if let cache = slowAttributes, !names.isEmpty {
            let (entries, read) = await cache.schedule(names)
            stale = read
            for (name, entry) in entries {
                if let cached = entry.values[Self.profileTagsKey]?.objectValue { known[name] = cached.compactMapValues(\.stringValue) } else { stale.append(name) }
            }
        }
        var failures: [String: AWSError] = [:]
        var read: [String: [String: JSONValue]] = [:]
        let results = await BoundedConcurrency.map(stale, limit: readConcurrency) { name -> (String, Result<[String: String], AWSError>) in
            do throws(AWSError) { return (name, .success(try await iam.instanceProfileTags(name))) } catch { return (name, .failure(error)) }
        }
        for (name, result) in results {
            switch result {
            case .success(let tags):
                known[name] = tags
                read[name] = [Self.profileTagsKey: .object(tags.mapValues { .string($0) })]
            case .failure(let error):
                failures[name] = error
            }
        }
        await slowAttributes?.store(read)
        return (known, failures)
    }

    /// The DNS attributes of each VPC: from the cache as its schedule says, otherwise read (two
    /// calls per VPC, `readConcurrency` VPCs at a time). Failures come back by VPC id.
    func dnsAttributes(_ vpcs: [(id: String, deployment: String)], _ ec2: EC2Client) async -> ([String: SlowAttributeCache.Entry], [String: AWSError]) {
        guard let cache = slowAttributes, !vpcs.isEmpty else { return ([:], [:]) }
        let (cached, stale) = await cache.schedule(vpcs.map(\.id))
        var known = cached
        guard !stale.isEmpty else { return (known, [:]) }
        var read: [String: [String: JSONValue]] = [:]
        var failures: [String: AWSError] = [:]
        let region = region
        let results = await BoundedConcurrency.map(stale, limit: readConcurrency) { id -> (String, Result<[String: JSONValue], AWSError>) in
            do {
                async let support = ec2.vpcAttribute(id, Self.dnsAttributes[0])
                async let hostnames = ec2.vpcAttribute(id, Self.dnsAttributes[1])
                let values: [String: JSONValue] = [Self.dnsAttributes[0]: .bool(try await support), Self.dnsAttributes[1]: .bool(try await hostnames)]
                return (id, .success(values))
            } catch let error as AWSError {
                return (id, .failure(error))
            } catch {
                return (id, .failure(AWSError.cancelled(service: "ec2", operation: "DescribeVpcAttribute", region: region)))
            }
        }
        for (id, result) in results {
            switch result {
            case .success(let v): read[id] = v
            case .failure(let e): failures[id] = e
            }
        }
        await cache.store(read)
        for id in read.keys { if let entry = await cache.fresh(id) { known[id] = entry } }
        return (known, failures)
    }
}
