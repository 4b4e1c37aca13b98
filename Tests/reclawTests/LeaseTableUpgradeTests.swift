import Foundation
import ReclawTestSupport
import Testing

/// A lease table made by a reclaw before the index `kind`: the daemon refuses it with the command
/// that fixes it, and that command adds the index to the table in place.
@Suite struct LeaseTableUpgradeTests {
    let emulator = Emulator.shared

    @Test("a replica refuses a lease table without the index, naming the command that adds it, which then does")
    func anOlderTableIsRefusedThenUpgraded() async throws {
        let table = uniqueName("leases")
        let dir = TemporaryDirectory("reclaw-lease-upgrade")
        var env = emulator.environment
        env["RECLAW_STATE_DIR"] = dir.file("state")
        _ = try await Command.check(["python3", "-c", """
        import boto3, sys
        url, table = sys.argv[1:3]
        db = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        db.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        db.get_waiter("table_exists").wait(TableName=table)
        db.put_item(TableName=table, Item={"pk": {"S": "lease#alpha"}, "owner": {"S": ""}, "version": {"S": "old/1"}, "epoch": {"N": "4"}})
        """, emulator.url, table])
        let upstream = try Upstream()
        _ = try upstream.commit(["alpha.yaml": minimalSpec("alpha", region: "eu-west-1")])
        let refused = try await Command.run([RepoPaths.reclawBinary, "run", "--once", "--source", upstream.url, "--lease-table", table,
                                             "--lease-region", "us-east-1"], environment: env)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("has no index kind") && refused.stderr.contains("reclaw lease create-table \(table)"), "\(refused.stderr)")

        let upgraded = try await Command.run([RepoPaths.reclawBinary, "lease", "create-table", table, "--region", "us-east-1"], environment: env)
        #expect(upgraded.status == 0, "\(upgraded.stderr)")
        let listed = try await Command.check(["python3", "-c", """
        import boto3, sys
        url, table = sys.argv[1:3]
        db = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        items = db.query(TableName=table, IndexName="kind", KeyConditionExpression="#k = :k",
                         ExpressionAttributeNames={"#k": "kind"}, ExpressionAttributeValues={":k": {"S": "lease"}})["Items"]
        print(",".join(sorted(i["pk"]["S"] + "@" + i["epoch"]["N"] for i in items)))
        """, emulator.url, table])
        #expect(listed.trimmingCharacters(in: .whitespacesAndNewlines) == "lease#alpha@4")
    }
}
