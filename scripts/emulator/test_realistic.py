"""Tests of the emulator's realistic mode, against a real emulator process started with --realistic.

Most tests hold a window open with a long duration, check what AWS would answer inside it, then close
it by setting the duration to 0 (durations are read when a call comes in): no sleeping, no races.
A few let real time pass to show that the windows end by themselves."""

import http.client
import json
import time
import xml.etree.ElementTree as ET

import pytest

from harness import admin, admin_error, client, error_of, eventually, lookup, start_emulator, stop_emulator
from realism import BEHAVIOURS

LONG = 60  # a window no test outlives


@pytest.fixture(scope="module")
def real():
    u, state = start_emulator("--realistic", "--scale", "0.2",
                              "--realism", json.dumps({"behaviours": {"rateLimits": {"enabled": False}}}))
    yield u
    stop_emulator(state)


def only(url, **seconds):
    """Realistic mode with just these behaviours on, each lasting the seconds given (None: its default)."""
    body = {"reset": True, "enabled": True, "behaviours": {name: {"enabled": name in seconds} for name in BEHAVIOURS}}
    for name, s in seconds.items():
        if s is not None:
            body["behaviours"][name]["seconds"] = s
    return admin(url, "realism", body)


def shorten(url, **seconds):
    admin(url, "realism", {"behaviours": {name: {"seconds": s} for name, s in seconds.items()}})


def raw(url, service, region, body, target=None):
    """An AWS call sent as bytes (moto checks no signature here): (status, headers, body)."""
    host, port = url.removeprefix("http://").split(":")
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, "
                                "SignedHeaders=host, Signature=0"}
    if target:
        headers.update({"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", "/", body=body, headers=headers)
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def network(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName="g", Description="g")["GroupId"]
    return vpc, subnet, group


def endpoint(ec2, vpc, subnet, group):
    return ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.ssm", VpcEndpointType="Interface",
                                   SubnetIds=[subnet], SecurityGroupIds=[group])["VpcEndpoint"]


def endpoint_state(ec2, vpce):
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]["State"]


def instance_state(ec2, instance):
    return ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]


def run(ec2, subnet=None, group=None, **extra):
    kwargs = {"ImageId": "ami-12345678", "MinCount": 1, "MaxCount": 1, **extra}
    if subnet:
        kwargs.update(SubnetId=subnet, SecurityGroupIds=[group])
    return ec2.run_instances(**kwargs)["Instances"][0]


def test_the_command_line_starts_it_realistic_with_the_scale_and_settings_given(real):
    settings = admin(real, "realism")
    assert settings["enabled"] and settings["scale"] == 0.2
    assert settings["behaviours"]["endpointPending"] == {
        "enabled": True, "active": True, "seconds": 24.0, "awsSeconds": 120, "explicit": False}
    assert settings["behaviours"]["rateLimits"]["active"] is False
    assert admin(real, "cloudtrail")["deliveryDelaySeconds"] == 60.0  # 5 minutes at 0.2


def test_bad_settings_are_refused_whole_with_the_reason(real):
    status, body = admin_error(real, "realism", {"behaviours": {"endpointPendng": {"seconds": 1}}})
    assert status == 400 and "endpointPendng" in body["error"] and "endpointPending" in body["error"]
    status, body = admin_error(real, "realism", {"scale": -1})
    assert status == 400 and "scale" in body["error"]
    assert admin(real, "realism")["scale"] == 0.2


def test_a_bad_realism_option_stops_the_emulator_from_starting():
    with pytest.raises(Exception) as e:
        start_emulator("--realistic", "--realism", '{"behaviours": {"nope": {}}}')
    assert "nope" in e.value.stderr


def test_a_new_ec2_id_is_not_found_for_a_moment_then_found(real):
    only(real, eventualConsistency=LONG)
    ec2 = client(real, "ec2", "eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    code, message, status, _ = error_of(lambda: ec2.describe_vpcs(VpcIds=[vpc]))
    assert (code, message, status) == ("InvalidVpcID.NotFound", f"The vpc ID '{vpc}' does not exist", 400)
    code, *_ = error_of(lambda: ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k", "Value": "v"}]))
    assert code == "InvalidVpcID.NotFound"
    code, *_ = error_of(lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24"))
    assert code == "InvalidVpcID.NotFound"
    # A filter naming it is no error: the listing just may not have it yet.
    ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    status, headers, body = raw(real, "ec2", "eu-west-1", f"Action=DescribeVpcs&VpcId.1={vpc}&Version=2016-11-15")
    root = ET.fromstring(body)
    assert status == 400 and root.tag == "Response"
    assert root.find("Errors/Error/Code").text == "InvalidVpcID.NotFound"
    assert root.find("RequestID").text == headers["x-amzn-requestid"]
    shorten(real, eventualConsistency=0)
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc


def test_new_ids_become_visible_by_themselves(real):
    only(real, eventualConsistency=1.5)
    ec2 = client(real, "ec2", "eu-west-1")
    began = time.monotonic()
    group = ec2.create_security_group(GroupName="visible", Description="d")["GroupId"]
    assert error_of(lambda: ec2.describe_security_groups(GroupIds=[group]))[0] == "InvalidGroup.NotFound"
    eventually(lambda: not error_or_none(lambda: ec2.describe_security_groups(GroupIds=[group])))
    assert time.monotonic() - began >= 1.5


def error_or_none(call):
    try:
        call()
        return None
    except Exception as e:
        return e


def test_an_endpoint_is_pending_then_available_and_deleting_then_deleted(real):
    only(real, endpointPending=LONG, endpointDeleting=LONG)
    ec2 = client(real, "ec2", "eu-west-2")
    vpce = endpoint(ec2, *network(ec2))
    assert vpce["State"] == "pending"
    assert endpoint_state(ec2, vpce["VpcEndpointId"]) == "pending"
    pending = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-state", "Values": ["pending"]}])
    assert [e["VpcEndpointId"] for e in pending["VpcEndpoints"]] == [vpce["VpcEndpointId"]]
    shorten(real, endpointPending=0)
    assert endpoint_state(ec2, vpce["VpcEndpointId"]) == "available"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[vpce["VpcEndpointId"]])
    assert endpoint_state(ec2, vpce["VpcEndpointId"]) == "deleting"
    shorten(real, endpointDeleting=0)
    assert endpoint_state(ec2, vpce["VpcEndpointId"]) == "deleted"


def test_an_endpoint_becomes_available_by_itself(real):
    only(real, endpointPending=1.5)
    ec2 = client(real, "ec2", "eu-west-2")
    began = time.monotonic()
    vpce = endpoint(ec2, *network(ec2))["VpcEndpointId"]
    eventually(lambda: endpoint_state(ec2, vpce) == "available")
    assert time.monotonic() - began >= 1.5


def test_an_instance_goes_through_pending_stopping_and_shutting_down(real):
    only(real, instancePending=LONG, instanceStopping=LONG, instanceShuttingDown=LONG)
    ec2 = client(real, "ec2", "eu-west-3")
    instance = run(ec2)
    assert instance["State"] == {"Code": 0, "Name": "pending"}
    assert instance_state(ec2, instance["InstanceId"]) == "pending"
    running = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    assert running["Reservations"] == []
    steps = [("instancePending", "running", lambda i: ec2.stop_instances(InstanceIds=[i]), "stopping"),
             ("instanceStopping", "stopped", lambda i: ec2.start_instances(InstanceIds=[i]), "pending"),
             ("instancePending", "running", lambda i: ec2.terminate_instances(InstanceIds=[i]), "shutting-down"),
             ("instanceShuttingDown", "terminated", None, None)]
    for behaviour, settled, action, transient in steps:
        shorten(real, **{behaviour: 0})
        assert instance_state(ec2, instance["InstanceId"]) == settled
        if action:
            shorten(real, **{behaviour: LONG})
            action(instance["InstanceId"])
            assert instance_state(ec2, instance["InstanceId"]) == transient


def test_switching_realism_off_settles_everything_at_once(real):
    only(real, instancePending=LONG, endpointPending=LONG, eventualConsistency=LONG)
    ec2 = client(real, "ec2", "eu-west-3")
    instance = run(ec2)["InstanceId"]
    admin(real, "realism", {"enabled": False})
    vpce = endpoint(ec2, *network(ec2))
    assert vpce["State"] == "available"
    assert instance_state(ec2, instance) == "running"
    admin(real, "realism", {"enabled": True})
    assert instance_state(ec2, instance) == "running"


def test_a_subnet_or_group_in_use_cannot_be_deleted_until_its_users_are_gone(real):
    only(real, dependencyViolation=None, endpointDeleting=LONG, instanceShuttingDown=LONG)
    ec2 = client(real, "ec2", "ca-central-1")
    vpc, subnet, group = network(ec2)
    vpce = endpoint(ec2, vpc, subnet, group)["VpcEndpointId"]
    instance = run(ec2, subnet, group)["InstanceId"]
    other = ec2.create_security_group(VpcId=vpc, GroupName="other", Description="o")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=other, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": group}]}])

    def refused():
        subnet_error = error_of(lambda: ec2.delete_subnet(SubnetId=subnet))
        group_error = error_of(lambda: ec2.delete_security_group(GroupId=group))
        assert subnet_error[:3] == ("DependencyViolation", f"The subnet '{subnet}' has dependencies and cannot be deleted.", 400)
        assert group_error[:3] == ("DependencyViolation", f"resource {group} has a dependent object", 400)

    refused()
    ec2.delete_vpc_endpoints(VpcEndpointIds=[vpce])
    ec2.terminate_instances(InstanceIds=[instance])
    refused()  # still deleting and shutting down
    shorten(real, endpointDeleting=0, instanceShuttingDown=0)
    ec2.delete_subnet(SubnetId=subnet)
    assert error_of(lambda: ec2.delete_security_group(GroupId=group))[0] == "DependencyViolation"  # other's rule
    ec2.delete_security_group(GroupId=other)
    ec2.delete_security_group(GroupId=group)


def test_a_new_instance_profile_and_role_are_refused_until_they_propagate(real):
    only(real, iamPropagation=LONG)
    iam, sts, ec2 = client(real, "iam"), client(real, "sts"), client(real, "ec2", "us-west-2")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="fresh-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.create_instance_profile(InstanceProfileName="fresh-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="fresh-profile", RoleName="fresh-role")
    code, message, status, _ = error_of(lambda: run(ec2, IamInstanceProfile={"Name": "fresh-profile"}))
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "Value (fresh-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
    code, message, status, response = error_of(lambda: sts.assume_role(RoleArn=role, RoleSessionName="session"))
    assert (code, status) == ("AccessDenied", 403)
    assert message == f"User: arn:aws:iam::123456789012:root is not authorized to perform: sts:AssumeRole on resource: {role}"
    assert response["ResponseMetadata"]["RequestId"]
    shorten(real, iamPropagation=0)
    assert run(ec2, IamInstanceProfile={"Name": "fresh-profile"})["InstanceId"]
    assert sts.assume_role(RoleArn=role, RoleSessionName="session")["Credentials"]["AccessKeyId"]


def test_sts_and_iam_errors_have_the_query_protocols_xml_shape(real):
    only(real, iamPropagation=LONG)
    iam = client(real, "iam")
    arn = iam.create_role(RoleName="shape-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    status, headers, body = raw(real, "sts", "us-east-1",
                                f"Action=AssumeRole&RoleArn={arn}&RoleSessionName=session&Version=2011-06-15")
    root = ET.fromstring(body)
    ns = "{https://sts.amazonaws.com/doc/2011-06-15/}"
    assert status == 403 and root.tag == f"{ns}ErrorResponse"
    assert root.find(f"{ns}Error/{ns}Code").text == "AccessDenied"
    assert root.find(f"{ns}Error/{ns}Type").text == "Sender"
    assert root.find(f"{ns}RequestId").text == headers["x-amzn-requestid"]


def test_ssm_refuses_commands_until_the_agent_registers_and_commands_take_their_time(real):
    only(real, ssmAgentRegistration=LONG, instancePending=LONG, ssmInvocationDelay=LONG,
         ssmCommandPending=LONG, ssmCommandRunning=LONG)
    ec2, ssm = client(real, "ec2", "ap-northeast-1"), client(real, "ssm", "ap-northeast-1")
    instance = run(ec2)["InstanceId"]

    def send():
        return ssm.send_command(InstanceIds=[instance], DocumentName="AWS-RunShellScript",
                                Parameters={"commands": ["true"]})["Command"]

    expected = ("InvalidInstanceId", f"Instances [[{instance}]] not in a valid state for account 123456789012", 400)
    assert error_of(send)[:3] == expected  # pending
    shorten(real, instancePending=0)
    assert error_of(send)[:3] == expected  # running, agent not registered yet
    shorten(real, ssmAgentRegistration=0)
    command = send()
    assert command["Status"] == "Pending"

    def invocation():
        return ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)

    code, message, status, response = error_of(invocation)
    assert (code, status) == ("InvocationDoesNotExist", 400)
    status, headers, body = raw(real, "ssm", "ap-northeast-1", json.dumps(
        {"CommandId": command["CommandId"], "InstanceId": instance}), target="AmazonSSM.GetCommandInvocation")
    assert status == 400 and json.loads(body) == {"__type": "InvocationDoesNotExist"}
    assert headers["x-amzn-requestid"]
    shorten(real, ssmInvocationDelay=0)
    assert (invocation()["Status"], invocation()["ResponseCode"]) == ("Pending", -1)
    shorten(real, ssmCommandPending=0)
    assert invocation()["Status"] == "InProgress"
    shorten(real, ssmCommandRunning=0)
    assert (invocation()["Status"], invocation()["StatusDetails"], invocation()["ResponseCode"]) == ("Success", "Success", 0)


def test_a_command_runs_its_course_by_itself(real):
    only(real, ssmInvocationDelay=0.3, ssmCommandPending=0.6, ssmCommandRunning=0.6)
    ec2, ssm = client(real, "ec2", "ap-northeast-1"), client(real, "ssm", "ap-northeast-1")
    instance = run(ec2)["InstanceId"]
    began = time.monotonic()
    command = ssm.send_command(InstanceIds=[instance], DocumentName="AWS-RunShellScript",
                               Parameters={"commands": ["true"]})["Command"]["CommandId"]
    seen = []

    def status():
        try:
            s = ssm.get_command_invocation(CommandId=command, InstanceId=instance)["Status"]
        except Exception as e:
            s = e.response["Error"]["Code"]
        if not seen or seen[-1] != s:
            seen.append(s)
        return s == "Success"

    eventually(status, interval=0.05)
    assert time.monotonic() - began >= 1.2
    assert seen[-2:] == ["InProgress", "Success"] and set(seen) <= {"InvocationDoesNotExist", "Pending", "InProgress", "Success"}


def test_the_next_commands_can_be_made_to_fail_or_time_out(real):
    only(real, ssmCommandRunning=LONG)
    ec2, ssm = client(real, "ec2", "ap-northeast-2"), client(real, "ssm", "ap-northeast-2")
    instance = run(ec2)["InstanceId"]
    admin(real, "commands", {"status": "Failed", "stderr": "converge: apt-get failed", "responseCode": 100})
    admin(real, "commands", {"status": "TimedOut", "instanceId": instance})
    assert [o["status"] for o in admin(real, "commands")["outcomes"]] == ["Failed", "TimedOut"]

    def send():
        return ssm.send_command(InstanceIds=[instance], DocumentName="AWS-RunShellScript",
                                Parameters={"commands": ["converge"]})["Command"]["CommandId"]

    failed, timed_out, fine = send(), send(), send()
    invocation = lambda c: ssm.get_command_invocation(CommandId=c, InstanceId=instance)
    assert invocation(failed)["Status"] == "InProgress"
    shorten(real, ssmCommandRunning=0)
    f = invocation(failed)
    assert (f["Status"], f["StatusDetails"], f["ResponseCode"], f["StandardErrorContent"]) == (
        "Failed", "Failed", 100, "converge: apt-get failed")
    t = invocation(timed_out)
    assert (t["Status"], t["StatusDetails"], t["ResponseCode"]) == ("TimedOut", "ExecutionTimedOut", -1)
    assert invocation(fine)["Status"] == "Success"
    assert admin(real, "commands")["outcomes"] == []


def test_command_outcomes_apply_in_the_default_mode_too(url):
    ec2, ssm = client(url, "ec2", "ap-south-2"), client(url, "ssm", "ap-south-2")
    instance = run(ec2)["InstanceId"]
    admin(url, "commands", {"status": "Failed", "stdout": "half done", "stderr": "boom"})
    command = ssm.send_command(InstanceIds=[instance], DocumentName="AWS-RunShellScript",
                               Parameters={"commands": ["x"]})["Command"]["CommandId"]
    result = ssm.get_command_invocation(CommandId=command, InstanceId=instance)
    assert (result["Status"], result["StandardOutputContent"], result["StandardErrorContent"], result["ResponseCode"]) == (
        "Failed", "half done", "boom", 1)
    assert ssm.send_command(InstanceIds=[instance], DocumentName="AWS-RunShellScript",
                            Parameters={"commands": ["x"]})["Command"]["Status"] == "Success"


def test_cloudtrail_is_late_regional_and_leaves_out_data_events(real):
    only(real, cloudTrailDelivery=LONG, cloudTrailScope=None)
    sts, ssm = client(real, "sts", "eu-central-1"), client(real, "ssm", "eu-central-1")
    sts.get_caller_identity()
    ssm.put_parameter(Name="/late/p", Value="v", Type="String")
    db = client(real, "dynamodb", "eu-central-1")
    db.create_table(TableName="late", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    db.put_item(TableName="late", Item={"id": {"S": "x"}})
    here, virginia = client(real, "cloudtrail", "eu-central-1"), client(real, "cloudtrail", "us-east-1")
    assert lookup(here)["Events"] == []
    shorten(real, cloudTrailDelivery=0)
    names = [e["EventName"] for e in lookup(here)["Events"]]
    assert "PutParameter" in names and "CreateTable" in names
    assert "GetCallerIdentity" not in names and "PutItem" not in names
    identity = lookup(virginia, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}])
    assert json.loads(identity["Events"][0]["CloudTrailEvent"])["awsRegion"] == "us-east-1"


def test_cloudtrail_delay_set_through_its_own_route_holds_in_realistic_mode(real):
    only(real, cloudTrailDelivery=None)
    assert admin(real, "cloudtrail")["deliveryDelaySeconds"] == 30.0  # 5 minutes at the default scale
    assert admin(real, "cloudtrail", {"deliveryDelaySeconds": 1})["deliveryDelaySeconds"] == 1
    assert admin(real, "realism")["behaviours"]["cloudTrailDelivery"]["seconds"] == 1


def test_lookup_events_is_throttled_per_region(real):
    only(real)
    first, second = client(real, "cloudtrail", "sa-east-1"), client(real, "cloudtrail", "af-south-1")
    time.sleep(1)
    codes = []
    for _ in range(4):
        codes.append(error_or_none(lambda: first.lookup_events(MaxResults=1)) is None)
    assert codes.count(False) >= 1
    assert second.lookup_events(MaxResults=1) is not None


def test_bursts_are_throttled_with_each_services_own_error(real):
    small = {"burst": 3, "refillPerSecond": 0.2}
    admin(real, "realism", {"reset": True, "enabled": True, "behaviours": {
        **{n: {"enabled": False} for n in BEHAVIOURS},
        "rateLimits": {"enabled": True, "buckets": {"ec2.read": small, "iam.read": small, "ssm.read": small}}}})
    ec2, iam, ssm = client(real, "ec2", "us-west-1"), client(real, "iam"), client(real, "ssm", "us-west-1")
    expectations = [
        (lambda: ec2.describe_vpcs(), ("RequestLimitExceeded", "Request limit exceeded.", 503)),
        (lambda: iam.list_roles(), ("Throttling", "Rate exceeded", 400)),
        (lambda: ssm.get_parameters(Names=["/x"]), ("ThrottlingException", "Rate exceeded", 400)),
    ]
    for call, expected in expectations:
        for _ in range(3):
            call()
        assert error_of(call)[:3] == expected
    ec2.describe_subnets()  # EC2 keeps one bucket per API
    client(real, "ec2", "us-west-1", key="other").describe_vpcs()  # and per access key
    client(real, "ec2", "us-east-2").describe_vpcs()  # and per region
    admin(real, "realism", {"behaviours": {"rateLimits": {"buckets": {"ec2.read": {"burst": 1, "refillPerSecond": 4}}}}})
    ec2.describe_vpcs()
    time.sleep(0.4)
    ec2.describe_vpcs()  # refilled
    admin(real, "realism", {"behaviours": {"rateLimits": {"enabled": False}}})
    for _ in range(10):
        ec2.describe_vpcs()


def test_the_default_buckets_let_a_normal_pace_through(real):
    only(real, rateLimits=None)
    ec2 = client(real, "ec2", "us-east-2")
    for _ in range(60):
        ec2.describe_vpcs()


def test_the_tagging_index_lists_a_new_parameter_only_after_its_lag(real):
    only(real, taggingIndexLag=LONG)
    ssm, tagging = client(real, "ssm", "eu-west-2"), client(real, "resourcegroupstaggingapi", "eu-west-2")
    ssm.put_parameter(Name="/indexed/old", Value="v", Type="String", Tags=[{"Key": "reclaw:deployment", "Value": "x"}])

    def listed():
        page = tagging.get_resources(ResourceTypeFilters=["ssm:parameter"], TagFilters=[{"Key": "reclaw:deployment"}])
        return sorted(m["ResourceARN"].split(":parameter")[-1] for m in page["ResourceTagMappingList"])

    assert "/indexed/old" not in listed()
    assert ssm.get_parameters(Names=["/indexed/old"])["Parameters"][0]["Name"] == "/indexed/old", "the parameter's own store has it"
    shorten(real, taggingIndexLag=0)
    assert "/indexed/old" in listed()
