"""CloudTrail's events through EventBridge: each management write the emulator records is put, after a
delivery delay, on the default event bus of its region as an "AWS API Call via CloudTrail" event,
so moto's rules match it and its targets (SQS queues) receive it as they would on AWS.

With no delay the event is delivered before the call's response goes out, so a test can read its
queue right after the call; with a delay a background thread delivers it when due.
"""

import heapq
import itertools
import json
import threading
import time

from realism import Realism

ACCOUNT_ID = "123456789012"
DETAIL_TYPE = "AWS API Call via CloudTrail"
SOURCES = {"tagging": "aws.tag"}
BATCH = 20  # events delivered per turn of moto's lock


def source_of(event_source: str) -> str:
    service = event_source.split(".")[0]
    return SOURCES.get(service, f"aws.{service}")


class EventDelivery:
    def __init__(self, realism: Realism, moto_lock, clock=time.time):
        self.realism = realism
        self.moto_lock = moto_lock
        self.clock = clock
        self.enabled = True
        self.delivery_delay = 0.0
        self.cond = threading.Condition()
        self.queue: list[tuple[float, int, dict]] = []
        self.order = itertools.count()
        self.delivered = 0
        self.failed = 0
        self.thread = None

    def delay(self) -> float:
        if self.realism.on("eventBridgeDelivery"):
            return self.realism.seconds("eventBridgeDelivery")
        return self.delivery_delay

    def wake(self):
        with self.cond:
            self.cond.notify()

    def set_delay(self, seconds: float):
        self.delivery_delay = float(seconds)
        if self.realism.on("eventBridgeDelivery"):
            self.realism.set_seconds("eventBridgeDelivery", seconds)
        with self.cond:
            self.cond.notify()

    def schedule(self, record: dict, region: str, at: float):
        """Takes a CloudTrail record; sends it if it is a management write, as AWS does by default."""
        if not self.enabled or record.get("readOnly") or not record.get("managementEvent"):
            return
        event = {"record": record, "region": region, "time": at}
        delay = self.delay()
        if delay <= 0:
            self.deliver(event)
            return
        with self.cond:
            heapq.heappush(self.queue, (at, next(self.order), event))
            self.cond.notify()
        self.ensure_thread()

    def flush(self) -> int:
        """Delivers every event still waiting, now."""
        with self.cond:
            waiting = [e for _, _, e in sorted(self.queue)]
            self.queue.clear()
        for event in waiting:
            self.deliver(event)
        return len(waiting)

    def pending(self) -> int:
        with self.cond:
            return len(self.queue)

    def ensure_thread(self):
        with self.cond:
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, name="eventbridge-delivery", daemon=True)
                self.thread.start()

    def run(self):
        while True:
            with self.cond:
                while True:
                    # Due times follow the delay in force now, so changing it holds back or releases
                    # events already waiting, as CloudTrail's lookup does.
                    timeout = None
                    if self.queue:
                        delay, now = self.delay(), self.clock()
                        due = self.queue[0][0] + delay
                        if due <= now:
                            # Every event due, oldest first, up to a batch: one turn of moto's lock
                            # for them all, so delivery keeps up while many calls wait for the lock.
                            batch = []
                            while self.queue and self.queue[0][0] + delay <= now and len(batch) < BATCH:
                                batch.append(heapq.heappop(self.queue)[2])
                            break
                        timeout = min(due - now, 0.5)
                    self.cond.wait(timeout)
            with self.moto_lock:
                for event in batch:
                    self.deliver(event, locked=True)

    def deliver(self, event: dict, locked: bool = False):
        from moto.events.models import events_backends

        record = event["record"]
        entry = {
            "Source": source_of(record["eventSource"]),
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(record),
            "Time": event["time"],
            "Resources": [],
        }
        try:
            if locked:
                result = events_backends[ACCOUNT_ID][event["region"]].put_events([entry])
            else:
                with self.moto_lock:
                    result = events_backends[ACCOUNT_ID][event["region"]].put_events([entry])
            if any("ErrorCode" in r for r in result):
                raise RuntimeError(result)
            self.delivered += 1
        except Exception as e:  # a broken rule or target must not stop the other deliveries
            self.failed += 1
            print(f"event delivery failed: {record['eventSource']} {record['eventName']}: {e!r}", flush=True)

    def to_json(self) -> dict:
        return {"enabled": self.enabled, "deliveryDelaySeconds": self.delay(), "pending": self.pending(),
                "delivered": self.delivered, "failed": self.failed}
