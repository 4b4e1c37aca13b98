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
        var items: [[String: JSONValue]] = []
        var start: JSONValue?
        repeat {
            var body: [String: JSONValue] = ["TableName": .string(table), "ConsistentRead": true]
            if let projection { body["ProjectionExpression"] = .string(projection) }
            if !names.isEmpty { body["ExpressionAttributeNames"] = .object(names.mapValues { .string($0) }) }
            if let start { body["ExclusiveStartKey"] = start }
            let page = try await client.json(.dynamodb, "Scan", region: region, .object(body))
            items += (page["Items"]?.arrayValue ?? []).compactMap(\.objectValue)
            start = page["LastEvaluatedKey"]
        } while start != nil
        return items
    }

    /// Creates an on-demand table whose key is the string attribute `key`.
    public func createTable(_ table: String, key: String) async throws(AWSError) {
        _ = try await client.json(.dynamodb, "CreateTable", region: region, [
            "TableName": .string(table), "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [["AttributeName": .string(key), "AttributeType": "S"]],
            "KeySchema": [["AttributeName": .string(key), "KeyType": "HASH"]],
        ])
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
