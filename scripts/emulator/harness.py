"""Helpers the emulator's tests share: start and stop an emulator process, call its admin API, make
boto3 clients for it."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))


def start_emulator(*extra):
    state = tempfile.mkdtemp(prefix="reclaw-emulator-test-")
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "emulator.py"), "start", "--state-dir", state,
         "--watch-pid", str(os.getpid()), *extra],
        check=True, capture_output=True, text=True)
    return out.stdout.strip(), state


def stop_emulator(state):
    subprocess.run([sys.executable, os.path.join(HERE, "emulator.py"), "stop", "--state-dir", state], check=True)


def admin(url, route, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{url}/_emulator/{route}", data=data, method=method or ("POST" if data else "GET"))
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def admin_error(url, route, body):
    """The status and JSON of an admin call expected to fail."""
    try:
        admin(url, route, body)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    raise AssertionError(f"admin {route} accepted {body}")


def client(url, service, region="us-east-1", key="testing", secret="testing", retries=0):
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": retries + 1, "mode": "standard"}))


def lookup(ct, **kwargs):
    """LookupEvents, waiting out CloudTrail's 2 requests per second as a real client must."""
    for _ in range(20):
        try:
            return ct.lookup_events(**kwargs)
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "ThrottlingException":
                raise
            time.sleep(0.5)
    raise AssertionError("LookupEvents stayed throttled")


def error_of(call):
    """The ClientError a call raises: (code, message, HTTP status, error response)."""
    try:
        call()
    except botocore.exceptions.ClientError as e:
        r = e.response
        return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"], r
    raise AssertionError("the call succeeded")


def eventually(check, timeout=10.0, interval=0.1):
    """Polls `check` until it returns a truthy value; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout}s")
        time.sleep(interval)
