import Foundation

/// Changes made to a deployment's resources by someone other than reclaw, with another IAM user's
/// key, the way an operator with the console or the CLI would make them.
extension Emulator {
    /// Opens `port` to the world on the deployment's instance security group; returns who did it.
    @discardableResult
    public func openPort(_ port: Int, deployment: String, region: String) async throws -> (arn: String, key: String) {
        let out = try await Command.check(["python3", "-c", """
        import boto3, sys
        url, name, region, port, user = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        arn = iam.create_user(UserName=user)["User"]["Arn"]
        k = iam.create_access_key(UserName=user)["AccessKey"]
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=region, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
        sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [name]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
        ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        print(arn, k["AccessKeyId"])
        """, url, deployment, region, String(port), uniqueName("intruder")]).split(separator: " ")
        return (String(out[0]), out[1].trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The ports open on the deployment's instance security group.
    public func openPorts(deployment: String, region: String) async throws -> [Int] {
        let out = try await Command.check(["python3", "-c", """
        import boto3, sys
        url, name, region = sys.argv[1:4]
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        sg = ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [name]}, {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]
        print(" ".join(str(p.get("FromPort", -1)) for p in sg["IpPermissions"]))
        """, url, deployment, region])
        return out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The mutating calls the emulator received for a deployment (by its User-Agent).
    public func mutatingCalls(deployment: String) async throws -> [String] {
        try await requests(userAgent: "deployment/\(deployment)").compactMap { $0["operation"] as? String }
            .filter { !["Describe", "List", "Get", "Lookup"].contains(where: $0.hasPrefix) }
    }
}
