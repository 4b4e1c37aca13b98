"""The emulator's WSGI app: moto behind a middleware that seeds, records, injects faults, answers
CloudTrail's LookupEvents, sends CloudTrail's events through EventBridge and, in realistic mode,
behaves as AWS does (realism.py), plus an admin API under /_emulator/."""

import io
import json
import socket
import threading
import time
from urllib.parse import unquote

from cloudtrail import ACCOUNT_ID, CloudTrail, LookupError_
from eventbridge import EventDelivery
from faults import Faults
from lifecycle import EC2Lifecycle
from propagation import IAMPropagation
from protocol import classify, error_of, error_response, new_request_id
from ratelimits import RateLimits
from realism import Realism
from seed import Seeder
from ssm_commands import SSMCommands
from tagging_index import TaggingIndex


class EmulatorApp:
    def __init__(self, moto_app, realism: dict | None = None):
        self.moto = moto_app
        self.realism = Realism()
        self.cloudtrail = CloudTrail(self.realism)
        self.faults = Faults()
        self.seeder = Seeder()
        self.requests: list[dict] = []  # every API request received, faulted or not
        self.imds_tokens: set[str] = set()
        # moto's backends are not thread-safe (an IAM listing can race a write): one call at a time
        # goes into moto; injected delays happen outside, so slow calls still overlap.
        self.moto_lock = threading.Lock()
        self.lifecycle = EC2Lifecycle(self.realism)
        self.lifecycle.install()
        self.propagation = IAMPropagation(self.realism, self.cloudtrail.identity)
        self.tagging_index = TaggingIndex(self.realism)
        self.commands = SSMCommands(self.realism, self.lifecycle)
        self.ratelimits = RateLimits(self.realism)
        self.events = EventDelivery(self.realism, self.moto_lock)
        self.cloudtrail.listeners.append(self.events.schedule)
        self.realism.listeners.append(self.realism_changed)
        if realism:
            self.realism.configure(realism)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/"):
            return self.admin(environ, start_response, path[len("/_emulator/"):])
        if path.startswith("/latest/") and "HTTP_AUTHORIZATION" not in environ:
            return self.imds(environ, start_response, path)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        call = classify(environ, body)
        if call is None:
            return self.moto(environ, start_response)
        if call.service in ("ec2", "ssm"):
            self.seeder.ensure(call.region)
        request_id = new_request_id()
        entry = {"service": call.service, "operation": call.operation, "region": call.region,
                 "accessKeyId": call.access_key_id, "userAgent": call.user_agent, "time": time.time(),
                 "clientPort": environ.get("REMOTE_PORT")}
        if call.service == "dynamodb" and isinstance(call.params.get("Key"), dict):
            # Which item a write touched, and whether it wrote a deployment's shared state.
            entry["item"] = (call.params["Key"].get("pk") or {}).get("S")
            entry["state"] = any(str(v).startswith("state.") for v in (call.params.get("ExpressionAttributeNames") or {}).values())
        if call.service == "ssm" and isinstance(call.params.get("Names"), list):
            entry["names"] = call.params["Names"]  # which values a GetParameters read
        self.requests.append(entry)

        lose_answer = False
        for fault in self.faults.take(call):
            lose_answer = lose_answer or fault.lose_answer
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000)
            if fault.drop:
                entry["outcome"] = "dropped"
                self.drop_connection(environ)
            if fault.error_code:
                entry.update(outcome="fault", status=fault.status, errorCode=fault.error_code, requestID=request_id)
                status, headers, payload = error_response(call, fault.error_code, fault.message, fault.status, request_id)
                self.cloudtrail.record(call, request_id, fault.status, payload, fault.error_code, fault.message)
                start_response(status, headers)
                return [payload]

        if call.service == "cloudtrail" and call.operation == "LookupEvents":
            return self.lookup_events(call, request_id, entry, start_response)

        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        refusal = self.ratelimits.take(call)
        waited = began = time.monotonic()
        # An SQS long poll waits outside moto's lock: moto would hold it (and every other call) for
        # the whole wait. It is asked without waiting, again and again, until a message comes or the
        # wait is over.
        poll_until, environ = self.long_poll(call, environ, body)
        while refusal is None:
            with self.moto_lock:
                began = time.monotonic()
                self.lifecycle.settle()
                refusal = self.lifecycle.refuse(call) or self.propagation.refuse(call) or self.commands.refuse(call)
                if refusal is None:
                    if poll_until is not None:
                        environ["wsgi.input"] = io.BytesIO(environ["reclaw.body"])
                    chunks = self.moto(environ, capture)
                    try:
                        payload = b"".join(chunks)
                    finally:
                        if hasattr(chunks, "close"):
                            chunks.close()
            if poll_until is None or refusal is not None or time.monotonic() >= poll_until or not self.empty_receive(captured, payload):
                break
            self.wait_for_messages(environ, poll_until)
        if refusal is not None:
            # Realistic mode refuses the call as AWS would at this moment.
            code, message, status = refusal
            entry.update(outcome="refused", status=status, errorCode=code, requestID=request_id)
            status_line, headers, payload = error_response(call, code, message, status, request_id)
            self.cloudtrail.record(call, request_id, status, payload, code, message)
            start_response(status_line, headers)
            return [payload]
        took = time.monotonic() - began
        if took > 0.2:
            print(f"slow moto call: {call.service} {call.operation} {call.region} took {took:.3f}s "
                  f"(waited {began - waited:.3f}s for the lock)", flush=True)
        status_code = int(captured["status"].split()[0])
        payload = self.commands.after(call, status_code, payload)
        payload = self.tagging_index.after(call, status_code, payload)
        self.lifecycle.remember_created(call, status_code, payload)
        self.propagation.remember(call, status_code)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        header_id = next((v for k, v in headers if k.lower() in ("x-amzn-requestid", "x-amz-request-id")), None)
        if header_id:
            request_id = header_id
        else:
            headers.append(("x-amzn-RequestId", request_id))
        headers.append(("Content-Length", str(len(payload))))
        code, message = error_of(status_code, payload)
        entry.update(outcome="error" if code else "ok", status=status_code, errorCode=code, requestID=request_id)
        self.cloudtrail.record(call, request_id, status_code, payload, code, message)
        if lose_answer:
            # Done, but the caller never hears of it: its connection drops as the answer would go.
            entry["outcome"] = "answer lost"
            self.drop_connection(environ)
        start_response(captured["status"], headers)
        return [payload]

    @staticmethod
    def drop_connection(environ):
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionResetError("connection dropped by an injected fault")

    def long_poll(self, call, environ, body):
        """For a JSON SQS ReceiveMessage that would wait: when the wait ends, and the request rewritten
        not to wait. Otherwise (None, environ)."""
        if call.service != "sqs" or call.operation != "ReceiveMessage" or call.protocol != "json":
            return None, environ
        try:
            from moto.sqs.models import sqs_backends

            name = str(call.params.get("QueueUrl", "")).rstrip("/").split("/")[-1]
            with self.moto_lock:
                queue = sqs_backends[ACCOUNT_ID][call.region].get_queue(name)
                wait = call.params.get("WaitTimeSeconds", queue.receive_message_wait_time_seconds)
            wait = int(wait or 0)
        except Exception:
            return None, environ  # moto answers (a missing queue, an invalid wait) as it would
        if wait <= 0 or wait > 20:
            return None, environ  # no wait, or an invalid one moto refuses
        rewritten = json.dumps({**call.params, "WaitTimeSeconds": 0}).encode()
        environ = dict(environ)
        environ["reclaw.body"] = rewritten
        environ["reclaw.queue"] = queue
        environ["CONTENT_LENGTH"] = str(len(rewritten))
        return time.monotonic() + wait, environ

    @staticmethod
    def wait_for_messages(environ, until):
        """Waits (without moto's lock) until a message is sent to the queue, at most a second: a
        message whose visibility timeout ends sends no signal."""
        remaining = until - time.monotonic()
        if remaining > 0:
            environ["reclaw.queue"].wait_for_messages(min(remaining, 1.0))

    @staticmethod
    def empty_receive(captured, payload) -> bool:
        if not captured.get("status", "").startswith("200"):
            return False
        try:
            return not json.loads(payload or b"{}").get("Messages")
        except ValueError:
            return False

    def realism_changed(self):
        self.ratelimits.reset()
        self.events.wake()
        with self.moto_lock:
            self.lifecycle.forget_switched_off()
        self.propagation.forget_switched_off()
        self.commands.forget_switched_off()

    def imds(self, environ, start_response, path):
        """The instance metadata service, IMDSv2 only: a PUT for a session token, then GETs carrying it."""
        method = environ.get("REQUEST_METHOD", "GET")
        entry = {"service": "imds", "operation": f"{method} {path}", "time": time.time()}
        self.requests.append(entry)
        if path == "/latest/api/token":
            ttl = environ.get("HTTP_X_AWS_EC2_METADATA_TOKEN_TTL_SECONDS")
            if method != "PUT" or not ttl:
                entry["outcome"] = "refused"
                start_response("400 Bad Request", [("Content-Length", "0")])
                return [b""]
            token = new_request_id()
            self.imds_tokens.add(token)
            entry["outcome"] = "ok"
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(token)))])
            return [token.encode()]
        if environ.get("HTTP_X_AWS_EC2_METADATA_TOKEN") not in self.imds_tokens:
            entry["outcome"] = "unauthorized"
            start_response("401 Unauthorized", [("Content-Length", "0")])
            return [b""]
        entry["outcome"] = "ok"
        environ["HTTP_HOST"] = "169.254.169.254"
        with self.moto_lock:
            return list(self.moto(environ, start_response))

    def lookup_events(self, call, request_id, entry, start_response):
        def reply(status, obj, error=None):
            body = json.dumps(obj).encode()
            headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id),
                       ("Content-Length", str(len(body)))]
            entry.update(outcome="error" if error else "ok", status=status, errorCode=error, requestID=request_id)
            start_response(f"{status} {'OK' if status == 200 else 'Error'}", headers)
            return [body]

        if not self.cloudtrail.take_lookup_token(call.region):
            return reply(400, {"__type": "ThrottlingException", "message": "Rate exceeded"}, "ThrottlingException")
        try:
            return reply(200, self.cloudtrail.lookup(call.region, call.params))
        except LookupError_ as e:
            return reply(400, {"__type": e.code, "message": e.message}, e.code)

    # --- admin API ------------------------------------------------------------------------------

    def admin(self, environ, start_response, route):
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            spec = json.loads(raw) if raw else {}
        except ValueError:
            return self.json(start_response, 400, {"error": "body is not JSON"})
        query = {k: unquote(v) for k, v in (p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)}
        if route == "health":
            return self.json(start_response, 200, {"status": "ok"})
        if route == "faults":
            if method == "POST":
                return self.json(start_response, 200, self.faults.add(spec).to_json())
            if method == "DELETE":
                self.faults.clear(int(query["id"]) if "id" in query else None)
                return self.json(start_response, 200, {"cleared": True})
            return self.json(start_response, 200, {"faults": self.faults.to_json()})
        if route == "requests":
            if method == "DELETE":
                self.requests.clear()
                return self.json(start_response, 200, {"cleared": True})
            selected = [r for r in list(self.requests)
                        if all(r.get(k) == v for k, v in query.items() if k in ("service", "operation", "region"))
                        and query.get("userAgent", "") in (r.get("userAgent") or "")]
            return self.json(start_response, 200, {"requests": selected})
        if route == "cloudtrail":
            if method == "POST" and "deliveryDelaySeconds" in spec:
                self.cloudtrail.set_delay(float(spec["deliveryDelaySeconds"]))
            return self.json(start_response, 200, {"deliveryDelaySeconds": self.cloudtrail.delay(),
                                                   "events": len(self.cloudtrail.events)})
        if route == "realism":
            if method == "POST":
                try:
                    self.realism.configure(spec)
                except ValueError as e:
                    return self.json(start_response, 400, {"error": str(e)})
            return self.json(start_response, 200, self.realism.to_json())
        if route == "events":
            if method == "POST":
                if "enabled" in spec:
                    self.events.enabled = bool(spec["enabled"])
                if "deliveryDelaySeconds" in spec:
                    self.events.set_delay(float(spec["deliveryDelaySeconds"]))
                if spec.get("flush"):
                    self.events.flush()
            return self.json(start_response, 200, self.events.to_json())
        if route == "commands":
            if method == "POST":
                try:
                    return self.json(start_response, 200, self.commands.queue(spec).to_json())
                except ValueError as e:
                    return self.json(start_response, 400, {"error": str(e)})
            if method == "DELETE":
                self.commands.clear()
                return self.json(start_response, 200, {"cleared": True})
            return self.json(start_response, 200, {"outcomes": self.commands.to_json()})
        if route == "auth" and method == "POST":
            from moto import settings
            from moto.core.authorization import ActionAuthenticatorMixin

            settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if spec.get("enabled", True) else float("inf")
            ActionAuthenticatorMixin.request_count = 0
            return self.json(start_response, 200, {"enabled": spec.get("enabled", True)})
        if route == "ami":
            region = spec.get("region") or query.get("region", "us-east-1")
            arch = spec.get("architecture") or query.get("architecture", "arm64")
            image = self.seeder.rotate(region, arch) if method == "POST" else self.seeder.current(region, arch)
            return self.json(start_response, 200, {"region": region, "architecture": arch, "imageId": image})
        return self.json(start_response, 404, {"error": f"no admin route {route}"})

    @staticmethod
    def json(start_response, status, obj):
        body = json.dumps(obj).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
