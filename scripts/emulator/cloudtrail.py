"""A CloudTrail for the emulator: records every call and answers LookupEvents in the real API's shape."""

import json
import re
import threading
import time
import uuid
from datetime import datetime, timezone

from protocol import Call

ACCOUNT_ID = "123456789012"

EC2_ID = re.compile(r"\b((vpc|subnet|igw|rtbassoc|rtb|sgr|sg|vpce|i|vol|eni|ami)-[0-9a-f]{8,17})\b")
EC2_TYPES = {
    "vpc": "AWS::EC2::VPC",
    "subnet": "AWS::EC2::Subnet",
    "igw": "AWS::EC2::InternetGateway",
    "rtb": "AWS::EC2::RouteTable",
    "rtbassoc": "AWS::EC2::SubnetRouteTableAssociation",
    "sg": "AWS::EC2::SecurityGroup",
    "sgr": "AWS::EC2::SecurityGroupRule",
    "vpce": "AWS::EC2::VPCEndpoint",
    "i": "AWS::EC2::Instance",
    "vol": "AWS::EC2::Volume",
    "eni": "AWS::EC2::NetworkInterface",
    "ami": "AWS::EC2::Ami",
}
NAMED_PARAMS = {
    "RoleName": "AWS::IAM::Role",
    "InstanceProfileName": "AWS::IAM::InstanceProfile",
    "PolicyArn": "AWS::IAM::Policy",
    "UserName": "AWS::IAM::User",
}
LOOKUP_KEYS = {
    "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId",
}


class LookupError_(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def resources_of(call: Call, response_body: bytes) -> list[dict]:
    """Resources the call names: ids in its parameters, and for writes the ids it created."""
    found: dict[str, str] = {}
    texts = [json.dumps(call.params) if call.protocol == "json" else " ".join(map(str, call.params.values()))]
    if not call.read_only:
        texts.append(response_body.decode("utf-8", "replace"))
    for text in texts:
        for m in EC2_ID.finditer(text):
            if m.group(2) != "ami" or call.operation in ("RunInstances", "DescribeImages"):
                found.setdefault(m.group(1), EC2_TYPES[m.group(2)])
    for key, rtype in NAMED_PARAMS.items():
        if call.params.get(key):
            found.setdefault(call.params[key], rtype)
    if call.service == "dynamodb" and isinstance(call.params.get("TableName"), str):
        found.setdefault(call.params["TableName"], "AWS::DynamoDB::Table")
    if call.service == "sqs":
        queue = call.params.get("QueueUrl") or call.params.get("QueueName")
        if isinstance(queue, str):
            found.setdefault(queue.rstrip("/").split("/")[-1], "AWS::SQS::Queue")
    if call.service == "events" and isinstance(call.params.get("Name"), str):
        found.setdefault(call.params["Name"], "AWS::Events::Rule")
    if call.service == "ssm":
        for name in [call.params.get("Name")] + list(call.params.get("Names") or []):
            if isinstance(name, str):
                found.setdefault(name, "AWS::SSM::Parameter")
        if call.params.get("ResourceType") == "Parameter" and call.params.get("ResourceId"):
            found.setdefault(call.params["ResourceId"], "AWS::SSM::Parameter")
    return [{"ResourceType": t, "ResourceName": n} for n, t in found.items()]


def redacted_params(call: Call) -> dict:
    params = dict(call.params)
    if call.service == "ssm" and params.get("Type") == "SecureString" and "Value" in params:
        params["Value"] = "HIDDEN_DUE_TO_SECURITY_REASONS"
    if call.service == "sts":
        params.pop("WebIdentityToken", None)
    return params


class CloudTrail:
    """Events in arrival order; each becomes visible to LookupEvents once the delivery delay has
    passed since it was recorded.

    In realistic mode the delay is the `cloudTrailDelivery` behaviour's, and with `cloudTrailScope`
    STS events are logged in us-east-1 like IAM's and data events stay out of LookupEvents."""

    def __init__(self, realism=None):
        self.lock = threading.Lock()
        self.events: list[dict] = []
        self.sequence = 0
        self.delivery_delay = 0.0
        self.realism = realism
        self.listeners = []  # called with (record, region, time) for every recorded event
        self.sessions: dict[str, dict] = {}  # access key id -> assumed-role session
        self.lookup_buckets: dict[str, tuple[float, float]] = {}  # region -> (tokens, last refill)
        self.lookup_rate = 2.0  # CloudTrail allows 2 LookupEvents requests per second per region

    def on(self, behaviour: str) -> bool:
        return self.realism is not None and self.realism.on(behaviour)

    def delay(self) -> float:
        if self.on("cloudTrailDelivery"):
            return self.realism.seconds("cloudTrailDelivery")
        return self.delivery_delay

    def set_delay(self, seconds: float):
        self.delivery_delay = float(seconds)
        if self.on("cloudTrailDelivery"):
            self.realism.set_seconds("cloudTrailDelivery", seconds)

    # --- identity -------------------------------------------------------------------------------

    def remember_session(self, call: Call, response_body: bytes):
        """After an AssumeRole*, remember which role session the new access key belongs to."""
        m = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", response_body)
        arn = re.search(rb"<Arn>([^<]+)</Arn>", response_body)
        if m:
            self.sessions[m.group(1).decode()] = {
                "arn": arn.group(1).decode() if arn else "",
                "sourceIdentity": call.params.get("SourceIdentity"),
                "sessionName": call.params.get("RoleSessionName"),
            }

    def identity(self, access_key_id: str) -> dict:
        session = self.sessions.get(access_key_id)
        if session:
            ident = {"type": "AssumedRole", "arn": session["arn"], "accountId": ACCOUNT_ID,
                     "accessKeyId": access_key_id, "principalId": f"AROA:{session['sessionName']}"}
            if session.get("sourceIdentity"):
                ident["sessionContext"] = {"sourceIdentity": session["sourceIdentity"]}
            return ident
        try:
            from moto.iam.models import iam_backends

            iam = iam_backends[ACCOUNT_ID]["aws"]
            key = iam.access_keys.get(access_key_id)
            if key is not None and key.user_name:
                user = iam.get_user(key.user_name)
                return {"type": "IAMUser", "arn": user.arn, "accountId": ACCOUNT_ID, "accessKeyId": access_key_id,
                        "principalId": user.id, "userName": user.name}
        except Exception:
            pass
        return {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT_ID}:root", "accountId": ACCOUNT_ID,
                "accessKeyId": access_key_id, "principalId": ACCOUNT_ID}

    # --- recording ------------------------------------------------------------------------------

    def record(self, call: Call, request_id: str, status: int, response_body: bytes,
               error_code: str | None, error_message: str | None):
        if call.service == "sts" and call.operation.startswith("AssumeRole") and status < 400:
            self.remember_session(call, response_body)
        now = time.time()
        identity = self.identity(call.access_key_id)
        # IAM is global, logged in us-east-1; so is STS in realistic mode, as its global endpoint is.
        global_services = ("iam", "sts") if self.on("cloudTrailScope") else ("iam",)
        region = "us-east-1" if call.service in global_services else call.region
        event_id = str(uuid.uuid4())
        record = {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": call.event_source,
            "eventName": call.operation,
            "awsRegion": region,
            "sourceIPAddress": call.source_ip,
            "userAgent": call.user_agent,
            "requestParameters": redacted_params(call),
            "responseElements": None,
            "requestID": request_id,
            "eventID": event_id,
            "readOnly": call.read_only,
            "eventType": "AwsApiCall",
            "managementEvent": call.management,
            "recipientAccountId": ACCOUNT_ID,
            "eventCategory": "Management" if call.management else "Data",
        }
        if error_code:
            record["errorCode"] = error_code
            record["errorMessage"] = error_message or ""
        with self.lock:
            self.sequence += 1
            self.events.append({
                "seq": self.sequence,
                "time": now,
                "region": region,
                "resources": resources_of(call, response_body),
                "username": "root" if identity["type"] == "Root" else (identity.get("userName") or identity["arn"].split("/")[-1]),
                "record": record,
            })
        for listener in self.listeners:
            listener(record, region, now)

    # --- LookupEvents ---------------------------------------------------------------------------

    def take_lookup_token(self, region: str) -> bool:
        with self.lock:
            now = time.monotonic()
            tokens, refilled = self.lookup_buckets.get(region, (2.0, now))
            tokens = min(2.0, tokens + (now - refilled) * self.lookup_rate)
            taken = tokens >= 1
            self.lookup_buckets[region] = (tokens - 1 if taken else tokens, now)
            return taken

    def lookup(self, region: str, params: dict) -> dict:
        attrs = params.get("LookupAttributes") or []
        if len(attrs) > 1:
            raise LookupError_("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
        attr = attrs[0] if attrs else None
        if attr and attr.get("AttributeKey") not in LOOKUP_KEYS:
            raise LookupError_("InvalidLookupAttributesException", f"Invalid attribute key: {attr.get('AttributeKey')}")
        start = params.get("StartTime")
        end = params.get("EndTime")
        max_results = int(params.get("MaxResults") or 50)
        if not 1 <= max_results <= 50:
            raise LookupError_("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        token = params.get("NextToken")
        before = int(token) if token else None
        now = time.time()
        delay = self.delay()
        data_hidden = self.on("cloudTrailScope")
        with self.lock:
            # The delay applies when events are looked up, so changing it holds back or releases records.
            candidates = [e for e in reversed(self.events) if e["region"] == region and e["time"] + delay <= now
                          and not (data_hidden and not e["record"]["managementEvent"])]
        out = []
        next_token = None
        for e in candidates:
            if before is not None and e["seq"] >= before:
                continue
            if start is not None and e["time"] < float(start):
                continue
            if end is not None and e["time"] > float(end):
                continue
            if attr and not self.matches(e, attr["AttributeKey"], attr.get("AttributeValue", "")):
                continue
            if len(out) == max_results:
                next_token = str(out[-1]["seq"])
                break
            out.append(e)
        result = {"Events": [self.shape(e) for e in out]}
        if next_token:
            result["NextToken"] = next_token
        return result

    @staticmethod
    def matches(e: dict, key: str, value: str) -> bool:
        r = e["record"]
        if key == "EventId":
            return r["eventID"] == value
        if key == "EventName":
            return r["eventName"] == value
        if key == "ReadOnly":
            return str(r["readOnly"]).lower() == value.lower()
        if key == "Username":
            return e["username"] == value
        if key == "EventSource":
            return r["eventSource"] == value
        if key == "AccessKeyId":
            return r["userIdentity"].get("accessKeyId") == value
        if key == "ResourceType":
            return any(res["ResourceType"] == value for res in e["resources"])
        if key == "ResourceName":
            return any(res["ResourceName"] == value for res in e["resources"])
        return False

    @staticmethod
    def shape(e: dict) -> dict:
        r = e["record"]
        return {
            "EventId": r["eventID"],
            "EventName": r["eventName"],
            "ReadOnly": str(r["readOnly"]).lower(),
            "AccessKeyId": r["userIdentity"].get("accessKeyId"),
            "EventTime": e["time"],
            "EventSource": r["eventSource"],
            "Username": e["username"],
            "Resources": e["resources"],
            "CloudTrailEvent": json.dumps(r),
        }
