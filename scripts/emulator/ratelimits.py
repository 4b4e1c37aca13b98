"""Request rate limits in realistic mode: token buckets, as AWS throttles.

One bucket per service, region, access key and kind of call (read or write); EC2 keeps one per API
action, as it documents. An empty bucket refuses the call with the service's own throttling error.
CloudTrail's LookupEvents is left to its own 2-per-second limit (cloudtrail.py).
"""

import threading
import time

from protocol import Call
from realism import Realism

THROTTLED = {
    "ec2": ("RequestLimitExceeded", "Request limit exceeded.", 503),
    "iam": ("Throttling", "Rate exceeded", 400),
    "sts": ("Throttling", "Rate exceeded", 400),
}
JSON_THROTTLED = ("ThrottlingException", "Rate exceeded", 400)


class RateLimits:
    def __init__(self, realism: Realism, clock=time.monotonic):
        self.realism = realism
        self.clock = clock
        self.lock = threading.Lock()
        self.buckets: dict[tuple, list[float]] = {}  # key -> [tokens, last refill]

    def take(self, call: Call):
        """(code, message, status) when the call's bucket is empty, else None (and a token is spent)."""
        if not self.realism.on("rateLimits") or (call.service, call.operation) == ("cloudtrail", "LookupEvents"):
            return None
        burst, refill = self.realism.bucket(call.service, call.read_only)
        kind = call.operation if call.service == "ec2" else ("read" if call.read_only else "write")
        key = (call.service, call.region, call.access_key_id, kind)
        now = self.clock()
        with self.lock:
            bucket = self.buckets.setdefault(key, [burst, now])
            bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * refill)
            bucket[1] = now
            if bucket[0] >= 1:
                bucket[0] -= 1
                return None
        return THROTTLED.get(call.service, JSON_THROTTLED if call.protocol == "json" else ("Throttling", "Rate exceeded", 400))

    def reset(self):
        with self.lock:
            self.buckets.clear()
