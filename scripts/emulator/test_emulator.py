"""Tests of the emulator's additions to moto, run against a real emulator process."""

import http.client
import json
import time

import botocore.exceptions
import pytest

from harness import admin, client, lookup, start_emulator, stop_emulator


def test_a_recorded_call_comes_back_from_lookup_events_with_its_request_id(url):
    ec2 = client(url, "ec2", "eu-west-1")
    resp = ec2.create_vpc(CidrBlock="10.9.0.0/16")
    vpc = resp["Vpc"]["VpcId"]
    request_id = resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    events = lookup(client(url, "cloudtrail", "eu-west-1"),
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": vpc}])["Events"]
    assert [e["EventName"] for e in events] == ["CreateVpc"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["requestID"] == request_id
    assert record["eventSource"] == "ec2.amazonaws.com"
    assert record["awsRegion"] == "eu-west-1"
    assert record["userIdentity"]["accessKeyId"] == "testing"
    assert {"ResourceType": "AWS::EC2::VPC", "ResourceName": vpc} in events[0]["Resources"]


def test_lookup_events_pages_newest_first_and_filters_by_time(url):
    ssm = client(url, "ssm", "ap-south-1")
    t0 = time.time()
    for i in range(5):
        ssm.put_parameter(Name=f"/paging/p{i}", Value="v", Type="String")
    ct = client(url, "cloudtrail", "ap-south-1")
    names, token = [], None
    while True:
        kwargs = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "PutParameter"}],
                  "MaxResults": 2, "StartTime": t0}
        if token:
            kwargs["NextToken"] = token
        page = lookup(ct, **kwargs)
        names += [e["Resources"][0]["ResourceName"] for e in page["Events"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"/paging/p{i}" for i in reversed(range(5))]
    later = lookup(ct, StartTime=time.time() + 60)["Events"]
    assert later == []


def test_lookup_events_refuses_two_attributes_and_throttles_beyond_two_per_second(url):
    ct = client(url, "cloudtrail", "ca-central-1")
    time.sleep(1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                           {"AttributeKey": "Username", "AttributeValue": "b"}])
    assert e.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    codes = []
    for _ in range(6):
        try:
            ct.lookup_events(MaxResults=1)
            codes.append("ok")
        except botocore.exceptions.ClientError as err:
            codes.append(err.response["Error"]["Code"])
    assert "ThrottlingException" in codes


def test_delivery_delay_hides_events_until_it_passes(url):
    admin(url, "cloudtrail", {"deliveryDelaySeconds": 2})
    try:
        iam = client(url, "iam")
        iam.create_role(RoleName="delayed-role", AssumeRolePolicyDocument="{}")
        ct = client(url, "cloudtrail", "us-east-1")
        by_name = {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": "delayed-role"}]}
        assert lookup(ct, **by_name)["Events"] == []
        time.sleep(2.5)
        assert [e["EventName"] for e in lookup(ct, **by_name)["Events"]] == ["CreateRole"]
    finally:
        admin(url, "cloudtrail", {"deliveryDelaySeconds": 0})


def test_an_injected_fault_fires_exactly_n_times(url):
    fault = admin(url, "faults", {"service": "ec2", "operation": "DescribeVpcs", "count": 3,
                                  "error": {"code": "RequestLimitExceeded", "status": 503}})
    ec2 = client(url, "ec2")
    codes = []
    for _ in range(5):
        try:
            ec2.describe_vpcs()
            codes.append("ok")
        except botocore.exceptions.ClientError as e:
            codes.append(e.response["Error"]["Code"])
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert codes == ["RequestLimitExceeded"] * 3 + ["ok"] * 2
    fired = [f for f in admin(url, "faults")["faults"] if f["id"] == fault["id"]][0]
    assert fired["fired"] == 3 and fired["remaining"] == 0
    admin(url, "faults", method="DELETE")


def test_a_fault_in_json_protocol_has_the_json_error_shape(url):
    admin(url, "faults", {"service": "ssm", "operation": "GetParameters", "count": 1,
                          "error": {"code": "ThrottlingException", "status": 400}})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(url, "ssm").get_parameters(Names=["/x"])
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    assert client(url, "ssm").get_parameters(Names=["/x"])["InvalidParameters"] == ["/x"]


def test_a_dropped_connection_gets_no_response(url):
    admin(url, "faults", {"service": "sts", "operation": "GetCallerIdentity", "count": 1, "drop": True})
    host, port = url.removeprefix("http://").split(":")
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261125/us-east-1/sts/aws4_request, "
                                "SignedHeaders=host, Signature=0", "Content-Type": "application/x-www-form-urlencoded"}
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("POST", "/", body=body, headers=headers)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    assert client(url, "sts").get_caller_identity()["Account"] == "123456789012"


def test_a_lost_answer_is_carried_out_but_never_heard_of(url):
    admin(url, "faults", {"service": "ssm", "operation": "PutParameter", "count": 1, "loseAnswer": True})
    ssm = client(url, "ssm")
    ssm.meta.events.register("needs-retry.*", lambda **kwargs: None)  # no retry: see the lost answer itself
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError,
                        ConnectionError, botocore.exceptions.HTTPClientError)):
        ssm.put_parameter(Name="/lost/answer", Value="v", Type="String")
    assert ssm.get_parameter(Name="/lost/answer")["Parameter"]["Value"] == "v"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.put_parameter(Name="/lost/answer", Value="v", Type="String")
    assert e.value.response["Error"]["Code"] == "ParameterAlreadyExists"


def test_a_delay_fault_slows_the_call(url):
    admin(url, "faults", {"service": "ec2", "operation": "DescribeRegions", "count": 1, "delayMs": 400})
    t = time.monotonic()
    client(url, "ec2").describe_regions()
    assert time.monotonic() - t >= 0.4


def test_every_request_is_counted_including_faulted_ones(url):
    admin(url, "requests", method="DELETE")
    admin(url, "faults", {"service": "ec2", "operation": "DescribeSubnets", "count": 2,
                          "error": {"code": "Throttling", "status": 400}})
    client(url, "ec2", retries=2).describe_subnets()
    seen = admin(url, "requests?service=ec2&operation=DescribeSubnets")["requests"]
    assert [r["outcome"] for r in seen] == ["fault", "fault", "ok"]


def test_each_resource_lists_its_own_tags_and_tag_filters_still_match(url):
    ec2 = client(url, "ec2", "sa-east-1")
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [
        {"Key": "n", "Value": str(i)}, {"Key": "group", "Value": "tags-test"}]}])["Vpc"]["VpcId"] for i in range(4)]
    listed = ec2.describe_vpcs(Filters=[{"Name": "tag:group", "Values": ["tags-test"]}])["Vpcs"]
    assert {v["VpcId"]: {t["Key"]: t["Value"] for t in v["Tags"]} for v in listed} == \
        {vpc: {"n": str(i), "group": "tags-test"} for i, vpc in enumerate(vpcs)}
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "tag:n", "Values": ["2"]}])["Vpcs"]] == [vpcs[2]]
    one = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpcs[1]]}])["Tags"]
    assert sorted((t["ResourceId"], t["ResourceType"], t["Key"], t["Value"]) for t in one) == \
        [(vpcs[1], "vpc", "group", "tags-test"), (vpcs[1], "vpc", "n", "1")]
    wildcard = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpcs[3][:-2] + "*"]}])["Tags"]
    assert {t["ResourceId"] for t in wildcard} >= {vpcs[3]}
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": ["vpc-0000000000000000"]}])["Tags"] == []


def test_aws_managed_policies_exist(url):
    iam = client(url, "iam")
    for name in ("AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy"):
        assert iam.get_policy(PolicyArn=f"arn:aws:iam::aws:policy/{name}")["Policy"]["PolicyName"] == name


def test_ubuntu_ami_parameters_name_registered_images_of_the_right_architecture(url):
    for region in ("us-east-1", "eu-central-1"):
        ssm, ec2 = client(url, "ssm", region), client(url, "ec2", region)
        for arch, expected in (("arm64", "arm64"), ("amd64", "x86_64")):
            name = f"/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"
            image = ssm.get_parameter(Name=name)["Parameter"]["Value"]
            described = ec2.describe_images(ImageIds=[image])["Images"]
            assert described[0]["Architecture"] == expected


def test_rotating_an_ami_publishes_a_new_image_behind_the_parameter(url):
    name = "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id"
    ssm = client(url, "ssm", "sa-east-1")
    before = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    rotated = admin(url, "ami", {"region": "sa-east-1", "architecture": "arm64"})["imageId"]
    after = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    assert before != after == rotated


def test_calls_are_attributed_to_the_iam_user_that_owns_the_key(url):
    iam = client(url, "iam")
    iam.create_user(UserName="mallory")
    key = iam.create_access_key(UserName="mallory")["AccessKey"]
    ec2 = client(url, "ec2", "us-west-1", key["AccessKeyId"], key["SecretAccessKey"])
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    events = lookup(client(url, "cloudtrail", "us-west-1"),
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": vpc}])["Events"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["userIdentity"]["arn"] == "arn:aws:iam::123456789012:user/mallory"
    assert events[0]["Username"] == "mallory"


def test_secure_string_values_are_hidden_in_recorded_events(url):
    ssm = client(url, "ssm", "eu-north-1")
    ssm.put_parameter(Name="/secret/token", Value="s3cr3t-value", Type="SecureString")
    events = lookup(client(url, "cloudtrail", "eu-north-1"),
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "/secret/token"}])["Events"]
    assert events and "s3cr3t-value" not in events[0]["CloudTrailEvent"]


def test_signature_checking_accepts_a_correct_key_and_refuses_a_wrong_secret():
    u, state = start_emulator()
    try:
        iam = client(u, "iam")
        iam.create_user(UserName="signer")
        iam.put_user_policy(UserName="signer", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="signer")["AccessKey"]
        admin(u, "auth", {"enabled": True})
        good = client(u, "ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert "Vpcs" in good.describe_vpcs()
        bad = client(u, "ec2", key=key["AccessKeyId"], secret="wrong" + key["SecretAccessKey"][5:])
        with pytest.raises(botocore.exceptions.ClientError) as e:
            bad.describe_vpcs()
        assert e.value.response["Error"]["Code"] == "AuthFailure"
        bad_iam = client(u, "iam", key=key["AccessKeyId"], secret="wrong")
        with pytest.raises(botocore.exceptions.ClientError) as e:
            bad_iam.list_roles()
        assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    finally:
        stop_emulator(state)


def test_connections_are_kept_alive(url):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    for _ in range(3):
        conn.request("GET", "/_emulator/health")
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read()) == {"status": "ok"}
    assert conn.sock is not None


def test_describe_parameters_pages_by_max_results_and_returns_no_value(url):
    ssm = client(url, "ssm", "eu-south-1")
    names = [f"/pages/p{i:02d}" for i in range(60)]
    for n in names:
        ssm.put_parameter(Name=n, Value="secret-ish", Type="String")
    filters = [{"Key": "Name", "Option": "Equals", "Values": names[:50]}]
    first = ssm.describe_parameters(ParameterFilters=filters, MaxResults=50)
    assert sorted(p["Name"] for p in first["Parameters"]) == names[:50]
    assert "NextToken" not in first
    assert all("Value" not in p and p["Version"] == 1 and "LastModifiedDate" in p for p in first["Parameters"])
    pages = ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/pages"]}], MaxResults=50)
    assert len(pages["Parameters"]) == 50 and pages["NextToken"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        ssm.describe_parameters(MaxResults=51)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_tagging_pages_by_resources_per_page_alone(url):
    ssm = client(url, "ssm", "ap-northeast-3")
    tags = [{"Key": k, "Value": "v"} for k in ("a", "b", "c")]
    for i in range(120):
        ssm.put_parameter(Name=f"/tagged/p{i}", Value="v", Type="String", Tags=tags)
    tagging = client(url, "resourcegroupstaggingapi", "ap-northeast-3")
    page = tagging.get_resources(ResourceTypeFilters=["ssm:parameter"], TagFilters=[{"Key": "a"}], ResourcesPerPage=100)
    assert len(page["ResourceTagMappingList"]) == 100 and page["PaginationToken"]
    rest = tagging.get_resources(PaginationToken=page["PaginationToken"], ResourcesPerPage=100,
                                 ResourceTypeFilters=["ssm:parameter"], TagFilters=[{"Key": "a"}])
    assert len(rest["ResourceTagMappingList"]) == 20 and not rest.get("PaginationToken")
