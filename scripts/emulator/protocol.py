"""What an incoming AWS request is (service, region, operation, caller) and how errors look per protocol."""

import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

EVENT_SOURCES = {
    "tagging": "tagging.amazonaws.com",
    "monitoring": "monitoring.amazonaws.com",
}


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
        return re.match(r"^(Describe|Get|List|Lookup)", self.operation) is not None


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


def error_response(call: Call, code: str, message: str, status: int, request_id: str):
    """(status line, headers, body) of an AWS error in the call's protocol."""
    if call.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        content_type = "text/xml;charset=UTF-8"
    elif call.protocol == "query":
        body = (
            f'<ErrorResponse xmlns="https://{call.service}.amazonaws.com/doc/">'
            f"<Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        content_type = "text/xml"
    else:
        body = json.dumps({"__type": code, "message": message})
        content_type = "application/x-amz-json-1.1"
    headers = [
        ("Content-Type", content_type),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body.encode()))),
    ]
    if call.protocol == "json":
        headers.append(("x-amzn-ErrorType", code))
    return f"{status} Error", headers, body.encode()


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
