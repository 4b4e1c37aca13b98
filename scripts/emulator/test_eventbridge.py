"""CloudTrail's events through EventBridge to SQS, and the SQS, EventBridge and DynamoDB calls reclaw
makes, through the emulator's middleware."""

import http.client
import json
import time

import pytest

from harness import admin, client, error_of, eventually, lookup

DETAIL_TYPE = "AWS API Call via CloudTrail"


def queue_for(url, region, pattern, name):
    """A queue that a rule on the region's default bus feeds with the events matching `pattern`."""
    sqs, events = client(url, "sqs", region), client(url, "events", region)
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return queue


def received(url, region, queue):
    sqs = client(url, "sqs", region)
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for m in messages:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def no_delay(url):
    admin(url, "events", {"enabled": True, "deliveryDelaySeconds": 0})
    yield
    admin(url, "events", {"enabled": True, "deliveryDelaySeconds": 0})


def test_a_write_reaches_a_queue_as_aws_sends_cloudtrail_events(url, no_delay):
    region = "eu-south-1"
    queue = queue_for(url, region, {"detail-type": [DETAIL_TYPE], "source": ["aws.ec2", "aws.iam", "aws.ssm"]}, "trail")
    ec2 = client(url, "ec2", region)
    response = ec2.create_vpc(CidrBlock="10.3.0.0/16")
    ec2.describe_vpcs()  # reads are not sent
    events = received(url, region, queue)
    assert [e["detail"]["eventName"] for e in events] == ["CreateVpc"]
    event = events[0]
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["version"], event["detail-type"], event["source"], event["account"], event["region"], event["resources"]) == (
        "0", DETAIL_TYPE, "aws.ec2", "123456789012", region, [])
    assert time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    detail = event["detail"]
    for key in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
                "userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly", "eventType",
                "managementEvent", "recipientAccountId"):
        assert key in detail, key
    assert detail["requestID"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert (detail["eventSource"], detail["readOnly"], detail["eventType"], detail["managementEvent"]) == (
        "ec2.amazonaws.com", False, "AwsApiCall", True)
    assert detail["userAgent"].startswith("Boto3/")
    # The same record CloudTrail's LookupEvents has.
    found = lookup(client(url, "cloudtrail", region),
                   LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": detail["eventID"]}])["Events"]
    assert json.loads(found[0]["CloudTrailEvent"]) == detail


def test_iam_events_are_sent_only_in_us_east_1(url, no_delay):
    pattern = {"detail-type": [DETAIL_TYPE], "source": ["aws.iam"], "detail": {"eventName": ["CreateRole"]}}
    here = queue_for(url, "eu-west-1", pattern, "iam-here")
    virginia = queue_for(url, "us-east-1", {**pattern, "detail": {"requestParameters": {"RoleName": ["bus-role"]}}},
                         "iam-virginia")
    client(url, "iam").create_role(RoleName="bus-role", AssumeRolePolicyDocument="{}")
    assert received(url, "eu-west-1", here) == []
    events = received(url, "us-east-1", virginia)
    assert [(e["source"], e["region"], e["detail"]["awsRegion"]) for e in events] == [("aws.iam", "us-east-1", "us-east-1")]


def test_rules_can_filter_on_the_event_source_and_name(url, no_delay):
    region = "eu-south-2"
    queue = queue_for(url, region, {"detail-type": [DETAIL_TYPE],
                                    "detail": {"eventSource": ["ssm.amazonaws.com"], "eventName": ["DeleteParameter"]}},
                      "deletes")
    ssm = client(url, "ssm", region)
    ssm.put_parameter(Name="/bus/p", Value="v", Type="String")
    ssm.delete_parameter(Name="/bus/p")
    client(url, "ec2", region).create_vpc(CidrBlock="10.4.0.0/16")
    events = received(url, region, queue)
    assert [(e["source"], e["detail"]["eventName"]) for e in events] == [("aws.ssm", "DeleteParameter")]


def test_delivery_waits_for_its_delay_and_can_be_flushed_or_switched_off(url, no_delay):
    region = "me-south-1"
    queue = queue_for(url, region, {"source": ["aws.ssm"]}, "late")
    ssm = client(url, "ssm", region)
    admin(url, "events", {"deliveryDelaySeconds": 0.8})
    began = time.monotonic()
    ssm.put_parameter(Name="/late/a", Value="v", Type="String")
    assert received(url, region, queue) == []
    assert admin(url, "events")["pending"] == 1
    events = eventually(lambda: received(url, region, queue), interval=0.1)
    assert time.monotonic() - began >= 0.8 and events[0]["detail"]["eventName"] == "PutParameter"
    admin(url, "events", {"deliveryDelaySeconds": 60})
    ssm.put_parameter(Name="/late/b", Value="v", Type="String")
    assert received(url, region, queue) == []
    admin(url, "events", {"flush": True})
    assert [e["detail"]["requestParameters"]["Name"] for e in received(url, region, queue)] == ["/late/b"]
    admin(url, "events", {"enabled": False, "deliveryDelaySeconds": 0})
    ssm.put_parameter(Name="/late/c", Value="v", Type="String")
    assert received(url, region, queue) == []


def test_realistic_mode_delays_events_by_its_own_default(url):
    try:
        admin(url, "realism", {"enabled": True, "behaviours": {
            n: {"enabled": n == "eventBridgeDelivery"} for n in admin(url, "realism")["behaviours"]}})
        assert admin(url, "events")["deliveryDelaySeconds"] == 6.0  # about a minute at the default scale
    finally:
        admin(url, "realism", {"reset": True, "enabled": False})
    assert admin(url, "events")["deliveryDelaySeconds"] == 0


def test_sqs_eventbridge_and_dynamodb_calls_are_logged_recorded_and_faultable(url):
    region = "il-central-1"
    admin(url, "requests", method="DELETE")
    sqs, events, db = client(url, "sqs", region), client(url, "events", region), client(url, "dynamodb", region)
    queue = sqs.create_queue(QueueName="logged")["QueueUrl"]
    sqs.receive_message(QueueUrl=queue)
    events.put_rule(Name="logged", EventPattern=json.dumps({"source": ["aws.ec2"]}))
    db.create_table(TableName="logged", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    seen = [(r["service"], r["operation"]) for r in admin(url, f"requests?region={region}")["requests"]]
    assert seen == [("sqs", "CreateQueue"), ("sqs", "ReceiveMessage"), ("events", "PutRule"), ("dynamodb", "CreateTable")]
    assert all(r["userAgent"].startswith("Boto3/") for r in admin(url, f"requests?region={region}")["requests"])
    sources = {e["EventName"]: e["EventSource"] for e in lookup(client(url, "cloudtrail", region))["Events"]}
    assert sources == {"CreateQueue": "sqs.amazonaws.com", "ReceiveMessage": "sqs.amazonaws.com",
                       "PutRule": "events.amazonaws.com", "CreateTable": "dynamodb.amazonaws.com"}
    for service, operation, call in (
            ("sqs", "ReceiveMessage", lambda: sqs.receive_message(QueueUrl=queue)),
            ("events", "PutRule", lambda: events.put_rule(Name="x", EventPattern="{}")),
            ("dynamodb", "GetItem", lambda: db.get_item(TableName="logged", Key={"id": {"S": "a"}}))):
        admin(url, "faults", {"service": service, "operation": operation, "region": region,
                              "error": {"code": "ThrottlingException", "status": 400}})
        assert error_of(call)[:3] == ("ThrottlingException", "injected by the emulator", 400)
        call()


def test_sqs_in_the_query_protocol_passes_through_too(url):
    region = "ap-east-1"
    client(url, "sqs", region).create_queue(QueueName="by-query")
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", "/", body="Action=ListQueues&Version=2012-11-05", headers={
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/sqs/aws4_request, SignedHeaders=host, Signature=0",
        "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "query-client/1.0"})
    response = conn.getresponse()
    assert response.status == 200 and b"by-query" in response.read()
    logged = admin(url, f"requests?region={region}&userAgent=query-client")["requests"]
    assert [(r["service"], r["operation"], r["outcome"]) for r in logged] == [("sqs", "ListQueues", "ok")]


def test_dynamodb_conditional_writes_guard_a_lease(url):
    db = client(url, "dynamodb", "eu-north-1")
    db.create_table(TableName="leases", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    first = {"id": {"S": "reclaw"}, "holder": {"S": "a"}, "version": {"N": "1"}}
    db.put_item(TableName="leases", Item=first, ConditionExpression="attribute_not_exists(id)")
    code, message, status, _ = error_of(lambda: db.put_item(
        TableName="leases", Item={**first, "holder": {"S": "b"}}, ConditionExpression="attribute_not_exists(id)"))
    assert (code, status) == ("ConditionalCheckFailedException", 400)
    renew = dict(TableName="leases", Key={"id": {"S": "reclaw"}}, UpdateExpression="SET version = :next",
                 ConditionExpression="version = :seen AND holder = :me")
    db.update_item(**renew, ExpressionAttributeValues={":seen": {"N": "1"}, ":next": {"N": "2"}, ":me": {"S": "a"}})
    stale = lambda: db.update_item(**renew, ExpressionAttributeValues={
        ":seen": {"N": "1"}, ":next": {"N": "2"}, ":me": {"S": "b"}})
    assert error_of(stale)[0] == "ConditionalCheckFailedException"
    item = db.get_item(TableName="leases", Key={"id": {"S": "reclaw"}}, ConsistentRead=True)["Item"]
    assert (item["holder"], item["version"]) == ({"S": "a"}, {"N": "2"})


def test_a_long_poll_holds_up_no_other_call_and_returns_as_soon_as_an_event_arrives(url, no_delay):
    region = "ca-west-1"
    queue = queue_for(url, region, {"source": ["aws.ssm"]}, "long-poll")
    sqs = client(url, "sqs", region)
    result = {}

    def poll():
        began = time.monotonic()
        result["messages"] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10).get("Messages", [])
        result["took"] = time.monotonic() - began

    import threading
    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    began = time.monotonic()
    client(url, "ec2", region).create_vpc(CidrBlock="10.5.0.0/16")
    assert time.monotonic() - began < 2, "a call waited for the long poll"
    client(url, "ssm", region).put_parameter(Name="/poll/a", Value="v", Type="String")
    poller.join(15)
    assert [json.loads(m["Body"])["detail"]["eventName"] for m in result["messages"]] == ["PutParameter"]
    assert result["took"] < 5
    # With nothing to receive it waits the whole time asked, and answers empty.
    began = time.monotonic()
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []) == []
    assert 0.9 <= time.monotonic() - began < 3
