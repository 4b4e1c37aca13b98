import ReclawJSON

/// The rest of the DynamoDB calls replicas need for their lease table: conditional updates that
/// leave other attributes alone, paginated scans, and the table itself.
extension DynamoDBClient {
    /// Updates (or creates) the item at `key` with `update` if `condition` holds; a false condition
    /// throws ConditionalCheckFailedException.
    public func updateItem(table: String, key: [String: JSONValue], update: String, condition: String? = nil,
                           names: [String: String] = [:], values: [String: JSONValue] = [:]) async throws(AWSError) {
        var body: [String: JSONValue] = ["TableName": .string(table), "Key": .object(key), "UpdateExpression": .string(update)]
        if let condition { body["ConditionExpression"] = .string(condition) }
        if !names.isEmpty { body["ExpressionAttributeNames"] = .object(names.mapValues { .string($0) }) }
        if !values.isEmpty { body["ExpressionAttributeValues"] = .object(values) }
        _ = try await client.json(.dynamodb, "UpdateItem", region: region, .object(body))
    }

    /// Every item of the table (strongly consistent), with only the `projection` attributes.
    public func scan(table: String, projection: String? = nil, names: [String: String] = [:]) async throws(AWSError) -> [[String: JSONValue]] {
        var body: [String: JSONValue] = ["TableName": .string(table), "ConsistentRead": true]
        if let projection { body["ProjectionExpression"] = .string(projection) }
        if !names.isEmpty { body["ExpressionAttributeNames"] = .object(names.mapValues { .string($0) }) }
        return try await allPages("Scan", body)
    }

    /// Every item of a global secondary index whose partition key is `value`, with the attributes
    /// the index projects. Eventually consistent, as every read of such an index is.
    public func query(table: String, index: SecondaryIndex, value: String) async throws(AWSError) -> [[String: JSONValue]] {
        try await allPages("Query", [
            "TableName": .string(table), "IndexName": .string(index.name), "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": ["#k": .string(index.key)], "ExpressionAttributeValues": [":k": ["S": .string(value)]],
        ])
    }

    /// The items of every page of a Scan or Query, following `LastEvaluatedKey`.
    private func allPages(_ operation: String, _ body: [String: JSONValue]) async throws(AWSError) -> [[String: JSONValue]] {
        var items: [[String: JSONValue]] = []
        var start: JSONValue?
        repeat {
            var request = body
            if let start { request["ExclusiveStartKey"] = start }
            let page = try await client.json(.dynamodb, operation, region: region, .object(request))
            items += (page["Items"]?.arrayValue ?? []).compactMap(\.objectValue)
            start = page["LastEvaluatedKey"]
        } while start != nil
        return items
    }

    /// A global secondary index keyed by a string attribute, projecting `include` beside the keys.
    public struct SecondaryIndex: Sendable {
        public var name: String
        public var key: String
        public var include: [String]

        public init(name: String, key: String, include: [String]) {
            self.name = name
            self.key = key
            self.include = include
        }

        var definition: JSONValue {
            ["IndexName": .string(name), "KeySchema": [["AttributeName": .string(key), "KeyType": "HASH"]],
             "Projection": ["ProjectionType": "INCLUDE", "NonKeyAttributes": .array(include.map { .string($0) })]]
        }
    }

    /// Creates an on-demand table whose key is the string attribute `key`, with `index` if given.
    public func createTable(_ table: String, key: String, index: SecondaryIndex? = nil) async throws(AWSError) {
        var definitions: [JSONValue] = [["AttributeName": .string(key), "AttributeType": "S"]]
        var body: [String: JSONValue] = ["TableName": .string(table), "BillingMode": "PAY_PER_REQUEST",
                                         "KeySchema": [["AttributeName": .string(key), "KeyType": "HASH"]]]
        if let index {
            definitions.append(["AttributeName": .string(index.key), "AttributeType": "S"])
            body["GlobalSecondaryIndexes"] = [index.definition]
        }
        body["AttributeDefinitions"] = .array(definitions)
        _ = try await client.json(.dynamodb, "CreateTable", region: region, .object(body))
    }

    /// Adds a global secondary index to an existing table (it builds in the background).
    public func addIndex(_ table: String, _ index: SecondaryIndex) async throws(AWSError) {
        _ = try await client.json(.dynamodb, "UpdateTable", region: region, [
            "TableName": .string(table), "AttributeDefinitions": [["AttributeName": .string(index.key), "AttributeType": "S"]],
            "GlobalSecondaryIndexUpdates": [["Create": index.definition]],
        ])
    }

    /// The status of the table's index `name` (`CREATING`, `ACTIVE`, ...), nil when it has none by that name.
    public func indexStatus(_ table: String, _ name: String) async throws(AWSError) -> String? {
        let t = try await client.json(.dynamodb, "DescribeTable", region: region, ["TableName": .string(table)])["Table"]
        return (t?["GlobalSecondaryIndexes"]?.arrayValue ?? []).first { $0["IndexName"]?.stringValue == name }?["IndexStatus"]?.stringValue
    }

    /// The table's status (`CREATING`, `ACTIVE`, ...), nil when there is no such table.
    public func tableStatus(_ table: String) async throws(AWSError) -> String? {
        do {
            return try await client.json(.dynamodb, "DescribeTable", region: region, ["TableName": .string(table)])["Table"]?["TableStatus"]?.stringValue
        } catch {
            if error.code == "ResourceNotFoundException" { return nil }
            throw error
        }
    }
}
