"""What an incoming AWS request is (service, region, operation, caller) and how errors look per protocol."""

import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

EVENT_SOURCES = {
    "tagging": "tagging.amazonaws.com",
    "monitoring": "monitoring.amazonaws.com",
}

# Calls CloudTrail logs as data events (not in LookupEvents, not sent to EventBridge by default).
DATA_OPERATIONS = {
    "dynamodb": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
                 "TransactGetItems", "TransactWriteItems", "ExecuteStatement", "BatchExecuteStatement",
                 "ExecuteTransaction"},
    "sqs": {"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
            "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"},
}
READ_ONLY_OPERATIONS = {"Query", "Scan", "BatchGetItem", "TransactGetItems", "ReceiveMessage"}

# The XML namespace of query-protocol error responses.
QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
}
# JSON services on protocol 1.0, and the namespace their error types carry.
JSON_10 = {"dynamodb": "com.amazonaws.dynamodb.v20120810#", "sqs": "com.amazonaws.sqs#"}


@dataclass
class Call:
    """One AWS API request, as far as the emulator needs to know it."""

    service: str
    region: str
    operation: str
    protocol: str  # "ec2", "query" or "json"
    access_key_id: str
    user_agent: str
    source_ip: str
    params: dict = field(default_factory=dict)

    @property
    def event_source(self) -> str:
        return EVENT_SOURCES.get(self.service, f"{self.service}.amazonaws.com")

    @property
    def read_only(self) -> bool:
        return (re.match(r"^(Describe|Get|List|Lookup)", self.operation) is not None
                or self.operation in READ_ONLY_OPERATIONS)

    @property
    def management(self) -> bool:
        """Whether CloudTrail logs this call as a management event (else as a data event)."""
        return self.operation not in DATA_OPERATIONS.get(self.service, ())


def classify(environ: dict, body: bytes) -> Call | None:
    """The call a WSGI request makes, or None when it is not a signed AWS API call."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = CREDENTIAL.search(auth)
    if m:
        access_key, _, region, service = m.groups()
    elif b"Action=AssumeRoleWith" in body:
        # STS's federation calls are the AWS calls made without a signature.
        access_key, region, service = "", "us-east-1", "sts"
    else:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        operation = target.split(".")[-1]
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        protocol = "json"
    else:
        flat = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        content_type = environ.get("CONTENT_TYPE", "")
        if body and ("x-www-form-urlencoded" in content_type or not content_type):
            for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
                flat.setdefault(k, []).extend(v)
        params = {k: v[0] for k, v in flat.items()}
        operation = params.pop("Action", "")
        params.pop("Version", None)
        protocol = "ec2" if service == "ec2" else "query"
    return Call(
        service=service,
        region=region,
        operation=operation,
        protocol=protocol,
        access_key_id=access_key,
        user_agent=environ.get("HTTP_USER_AGENT", ""),
        source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        params=params,
    )


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_response(call: Call, code: str, message: str | None, status: int, request_id: str):
    """(status line, headers, body) of an AWS error in the call's protocol, as AWS shapes it."""
    text = message or ""
    if call.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(text)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        content_type = "text/xml;charset=UTF-8"
    elif call.protocol == "query":
        namespace = QUERY_NAMESPACES.get(call.service, f"https://{call.service}.amazonaws.com/doc/")
        body = (
            f'<ErrorResponse xmlns="{namespace}">'
            f"<Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{code}</Code>"
            f"<Message>{escape(text)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        content_type = "text/xml"
    else:
        error = {"__type": JSON_10.get(call.service, "") + code}
        if message is not None:
            error["message"] = message
        body = json.dumps(error)
        content_type = "application/x-amz-json-1.0" if call.service in JSON_10 else "application/x-amz-json-1.1"
    headers = [
        ("Content-Type", content_type),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body.encode()))),
    ]
    if call.protocol == "json":
        headers.append(("x-amzn-ErrorType", code))
    if call.service == "sqs" and call.protocol == "json":
        headers.append(("x-amzn-query-error", f"{code};{'Sender' if status < 500 else 'Receiver'}"))
    return f"{status} {REASONS.get(status, 'Error')}", headers, body.encode()


REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


ERROR_CODE_PATTERNS = [
    re.compile(rb"<Code>([^<]+)</Code>"),
    re.compile(rb'"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"'),
]
ERROR_MESSAGE_PATTERNS = [
    re.compile(rb"<Message>([^<]*)</Message>"),
    re.compile(rb'"[mM]essage"\s*:\s*"([^"]*)"'),
]


def error_of(status: int, body: bytes):
    """(code, message) of an error response moto produced, or (None, None)."""
    if status < 400:
        return None, None
    code = next((m.group(1).decode() for p in ERROR_CODE_PATTERNS if (m := p.search(body))), f"HTTP{status}")
    message = next((m.group(1).decode() for p in ERROR_MESSAGE_PATTERNS if (m := p.search(body))), "")
    return code, message
