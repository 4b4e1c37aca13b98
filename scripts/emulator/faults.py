"""Fault injection: the next N calls matching a service and operation fail, slow down, lose their
connection, or are carried out and then lose their answer (a client timeout after AWS acted)."""

import itertools
import threading
from dataclasses import dataclass, field

from protocol import Call


@dataclass
class Fault:
    id: int
    operation: str = "*"
    service: str | None = None
    region: str | None = None
    user_agent: str | None = None  # a substring of the caller's User-Agent
    remaining: int | None = 1  # None: every matching call, until cleared
    error_code: str | None = None
    status: int = 400
    message: str = "injected by the emulator"
    delay_ms: int = 0
    drop: bool = False
    lose_answer: bool = False  # carried out, then the connection is dropped before the answer
    fired: int = 0

    def matches(self, call: Call) -> bool:
        if self.service and self.service != call.service:
            return False
        if self.region and self.region != call.region:
            return False
        if self.user_agent and self.user_agent not in call.user_agent:
            return False
        return self.operation in ("*", "", call.operation)

    def to_json(self) -> dict:
        return {
            "id": self.id, "operation": self.operation, "service": self.service, "region": self.region, "userAgent": self.user_agent, "remaining": self.remaining,
            "errorCode": self.error_code, "status": self.status, "delayMs": self.delay_ms, "drop": self.drop, "loseAnswer": self.lose_answer,
            "fired": self.fired,
        }


@dataclass
class Faults:
    """Installed faults, consumed in the order they were added."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    faults: list[Fault] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, spec: dict) -> Fault:
        error = spec.get("error") or {}
        count = spec.get("count", 1)
        fault = Fault(
            id=next(self.ids),
            operation=spec.get("operation", "*"),
            service=spec.get("service"),
            region=spec.get("region"),
            user_agent=spec.get("userAgent"),
            remaining=None if count is None else int(count),
            error_code=error.get("code"),
            status=int(error.get("status", 400)),
            message=error.get("message", "injected by the emulator"),
            delay_ms=int(spec.get("delayMs", 0)),
            drop=bool(spec.get("drop", False)),
            lose_answer=bool(spec.get("loseAnswer", False)),
        )
        with self.lock:
            self.faults.append(fault)
        return fault

    def take(self, call: Call) -> list[Fault]:
        """The faults that fire for this call: at most one error or drop, plus every matching delay."""
        fired = []
        with self.lock:
            failure_taken = False
            for f in self.faults:
                if f.remaining == 0 or not f.matches(call):
                    continue
                is_failure = f.error_code is not None or f.drop or f.lose_answer
                if is_failure and failure_taken:
                    continue
                failure_taken = failure_taken or is_failure
                if f.remaining is not None:
                    f.remaining -= 1
                f.fired += 1
                fired.append(f)
        return fired

    def clear(self, fault_id: int | None = None):
        with self.lock:
            if fault_id is None:
                self.faults.clear()
            else:
                self.faults = [f for f in self.faults if f.id != fault_id]

    def to_json(self) -> list[dict]:
        with self.lock:
            return [f.to_json() for f in self.faults]
