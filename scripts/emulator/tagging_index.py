"""The Resource Groups Tagging API as the index it is: GetResources lists a parameter only some time
after it was created or tagged (realistic behaviour `taggingIndexLag`). AWS documents the tagging
API as eventually consistent and fed from each service's own records; a listing made while others
write comes back incomplete. reclaw must take such a listing for candidates, never for proof that a
recorded resource is gone."""

import json
import threading
import time

from protocol import Call


class TaggingIndex:
    def __init__(self, realism, clock=time.monotonic):
        self.realism = realism
        self.clock = clock
        self.lock = threading.Lock()
        self.changed: dict[tuple[str, str], float] = {}  # (region, parameter name) -> when

    def after(self, call: Call, status: int, payload: bytes) -> bytes:
        """Remembers parameters created or tagged; hides the recent ones from GetResources."""
        if status >= 400:
            return payload
        if call.service == "ssm" and call.operation in ("PutParameter", "AddTagsToResource"):
            name = call.params.get("Name") or call.params.get("ResourceId") or ""
            with self.lock:
                self.changed[(call.region, "/" + name.lstrip("/"))] = self.clock()
            return payload
        if call.service != "tagging" or call.operation != "GetResources" or not self.realism.on("taggingIndexLag"):
            return payload
        try:
            body = json.loads(payload)
        except ValueError:
            return payload
        lag, now = self.realism.seconds("taggingIndexLag"), self.clock()

        def indexed(mapping) -> bool:
            arn = mapping.get("ResourceARN", "")
            name = "/" + arn.split(":parameter", 1)[-1].lstrip("/") if ":parameter" in arn else None
            with self.lock:
                at = self.changed.get((call.region, name)) if name else None
            return at is None or now - at >= lag

        body["ResourceTagMappingList"] = [m for m in body.get("ResourceTagMappingList", []) if indexed(m)]
        return json.dumps(body).encode()
