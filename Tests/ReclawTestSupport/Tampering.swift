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

extension Emulator {
    /// Every reclaw resource of the deployments whose names start with `prefix`, counted per
    /// deployment and component, in one read of the region: what must stay at exactly one each.
    public func resourceCounts(prefix: String, region: String) async throws -> [String: [String: Int]] {
        let out = try await Command.check(["python3", "-c", """
        import boto3, json, sys
        url, prefix, region = sys.argv[1:4]
        kw = dict(endpoint_url=url, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        ec2, iam, tag = boto3.client("ec2", **kw), boto3.client("iam", **kw), boto3.client("resourcegroupstaggingapi", **kw)
        f = [{"Name": "tag-key", "Values": ["reclaw:deployment"]}]
        counts = {}
        def add(tags, component=None, deployment=None):
            k = {t["Key"]: t["Value"] for t in tags or []}
            d = deployment or k.get("reclaw:deployment", "")
            if not d.startswith(prefix): return
            c = component or k.get("reclaw:component", "?")
            counts.setdefault(d, {})[c] = counts.setdefault(d, {}).get(c, 0) + 1
        for v in ec2.describe_vpcs(Filters=f)["Vpcs"]: add(v.get("Tags"))
        for v in ec2.describe_subnets(Filters=f)["Subnets"]: add(v.get("Tags"))
        for v in ec2.describe_internet_gateways(Filters=f)["InternetGateways"]: add(v.get("Tags"))
        for v in ec2.describe_route_tables(Filters=f)["RouteTables"]: add(v.get("Tags"))
        for v in ec2.describe_security_groups(Filters=f)["SecurityGroups"]: add(v.get("Tags"))
        for v in ec2.describe_vpc_endpoints(Filters=f)["VpcEndpoints"]:
            if v["State"].lower() not in ("deleted", "deleting"): add(v.get("Tags"))
        for r in ec2.describe_instances(Filters=f + [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]:
            for i in r["Instances"]: add(i.get("Tags"))
        for page in iam.get_paginator("list_roles").paginate(PathPrefix="/reclaw/"):
            for r in page["Roles"]:
                n = r["RoleName"]
                if n.startswith("reclaw-") and n.endswith("-instance"): add([], "role", n[len("reclaw-"):-len("-instance")])
        for page in iam.get_paginator("list_instance_profiles").paginate(PathPrefix="/reclaw/"):
            for p in page["InstanceProfiles"]:
                n = p["InstanceProfileName"]
                if n.startswith("reclaw-") and n.endswith("-instance"): add([], "instance-profile", n[len("reclaw-"):-len("-instance")])
        for page in tag.get_paginator("get_resources").paginate(ResourceTypeFilters=["ssm:parameter"], TagFilters=[{"Key": "reclaw:deployment"}]):
            for m in page["ResourceTagMappingList"]: add(m["Tags"])
        print(json.dumps(counts))
        """, url, prefix, region])
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: [String: Int]] ?? [:]
    }
}
