import Logging

extension EC2Client {
    /// The id a create call's response holds at `path`; a response without it is an error (the
    /// resource may exist: the step fails with its create journal open, and the next pass finds it by its tags).
    func created(_ action: String, _ params: QueryParams, at path: String...) async throws(AWSError) -> String {
        try await call(action, params).required(path, service: "ec2", operation: action, region: region)
    }

    /// The items of a Describe call, each made into `T`; an item without an id is left out, with a log line.
    func describe<T>(_ action: String, listName: String, filters: [Filter], extra: QueryParams = QueryParams(),
                     as make: (XMLElement) -> T?) async throws(AWSError) -> [T] {
        identified(try await describe(action, listName: listName, filters: filters, extra: extra), action, make)
    }

    func identified<T>(_ items: [XMLElement], _ action: String, _ make: (XMLElement) -> T?) -> [T] {
        items.compactMap { item in
            if let value = make(item) { return value }
            client.logger.warning("skipping an item without an id", metadata: ["aws.operation": "\(action)", "aws.region": "\(region)"])
            return nil
        }
    }
}
