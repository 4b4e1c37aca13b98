"""SSM Run Command as AWS runs it: an agent that registers late, invocations that appear late, and
commands that go Pending → InProgress → an outcome, which tests can make Failed or TimedOut.

moto marks every command Success at once. Here each command remembers when it was sent and whether
realistic mode was on; GetCommandInvocation's answer is rewritten from the windows as set when it is
asked (so shortening one releases commands waiting on it). Outcomes
queued through the admin API (`/_emulator/commands`) apply in either mode.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field

from protocol import Call
from realism import Realism

ACCOUNT_ID = "123456789012"
OUTCOMES = {
    # status -> (StatusDetails, ResponseCode) unless the admin call says otherwise
    "Success": ("Success", 0),
    "Failed": ("Failed", 1),
    "TimedOut": ("ExecutionTimedOut", -1),
    "Cancelled": ("Cancelled", -1),
}


@dataclass
class Outcome:
    id: int
    status: str
    status_details: str
    response_code: int
    stdout: str = ""
    stderr: str = ""
    instance_id: str | None = None
    region: str | None = None
    remaining: int = 1

    def matches(self, region: str, instance_ids: list[str]) -> bool:
        return (self.region in (None, region)) and (self.instance_id is None or self.instance_id in instance_ids)

    def to_json(self) -> dict:
        return {"id": self.id, "status": self.status, "statusDetails": self.status_details,
                "responseCode": self.response_code, "stdout": self.stdout, "stderr": self.stderr,
                "instanceId": self.instance_id, "region": self.region, "remaining": self.remaining}


@dataclass
class Command:
    sent: float
    realistic: bool  # sent in realistic mode: it goes through the windows, as they are set when asked
    outcome: Outcome | None = None
    instance_ids: list[str] = field(default_factory=list)


class SSMCommands:
    def __init__(self, realism: Realism, lifecycle, clock=time.time):
        self.realism = realism
        self.lifecycle = lifecycle
        self.clock = clock
        self.lock = threading.Lock()
        self.outcomes: list[Outcome] = []
        self.commands: dict[str, Command] = {}
        self.ids = itertools.count(1)

    # --- admin ----------------------------------------------------------------------------------

    def queue(self, spec: dict) -> Outcome:
        status = spec.get("status", "Failed")
        if status not in OUTCOMES:
            raise ValueError(f"status must be one of {', '.join(OUTCOMES)}")
        details, code = OUTCOMES[status]
        outcome = Outcome(
            id=next(self.ids), status=status, status_details=spec.get("statusDetails", details),
            response_code=int(spec.get("responseCode", code)), stdout=spec.get("stdout", ""),
            stderr=spec.get("stderr", ""), instance_id=spec.get("instanceId"), region=spec.get("region"),
            remaining=int(spec.get("count", 1)))
        with self.lock:
            self.outcomes.append(outcome)
        return outcome

    def clear(self):
        with self.lock:
            self.outcomes.clear()

    def to_json(self) -> list[dict]:
        with self.lock:
            return [o.to_json() for o in self.outcomes]

    # --- calls ----------------------------------------------------------------------------------

    def refuse(self, call: Call):
        """(code, message, status) when realistic SSM refuses the call, else None. Call under the moto lock."""
        if call.service != "ssm":
            return None
        now = self.clock()
        if call.operation == "SendCommand" and self.realism.on("ssmAgentRegistration"):
            for instance_id in call.params.get("InstanceIds") or []:
                ready = self.lifecycle.agent_ready_at(call.region, instance_id)
                if ready is None or ready > now:
                    return ("InvalidInstanceId",
                            f"Instances [[{instance_id}]] not in a valid state for account {ACCOUNT_ID}", 400)
        if call.operation == "GetCommandInvocation":
            command = self.commands.get(call.params.get("CommandId", ""))
            if command and command.realistic and now < command.sent + self.window("ssmInvocationDelay"):
                return "InvocationDoesNotExist", None, 400
        return None

    def after(self, call: Call, status: int, payload: bytes) -> bytes:
        """Remembers sent commands and rewrites what moto says about them."""
        if call.service != "ssm" or status >= 400 or call.operation not in ("SendCommand", "GetCommandInvocation"):
            return payload
        try:
            body = json.loads(payload)
        except ValueError:
            return payload
        now = self.clock()
        if call.operation == "SendCommand":
            command_json = body.get("Command") or {}
            instance_ids = list(call.params.get("InstanceIds") or [])
            command = Command(sent=now, realistic=self.realism.enabled, outcome=self.take(call.region, instance_ids),
                              instance_ids=instance_ids)
            with self.lock:
                self.commands[command_json.get("CommandId", "")] = command
            if self.windows(command)[1] > 0:
                command_json.update(Status="Pending", StatusDetails="Pending")
            elif command.outcome:
                command_json.update(Status=command.outcome.status, StatusDetails=command.outcome.status_details)
            return json.dumps(body).encode()
        command = self.commands.get(body.get("CommandId", ""))
        if command is None:
            return payload
        elapsed = now - command.sent
        pending, done = self.windows(command)
        if elapsed < pending:
            body.update(Status="Pending", StatusDetails="Pending", ResponseCode=-1, ExecutionStartDateTime="",
                        ExecutionElapsedTime="", ExecutionEndDateTime="", StandardOutputContent="", StandardErrorContent="")
        elif elapsed < done:
            body.update(Status="InProgress", StatusDetails="InProgress", ResponseCode=-1, ExecutionEndDateTime="",
                        StandardOutputContent="", StandardErrorContent="")
        elif command.outcome:
            o = command.outcome
            body.update(Status=o.status, StatusDetails=o.status_details, ResponseCode=o.response_code,
                        StandardOutputContent=o.stdout, StandardErrorContent=o.stderr)
        return json.dumps(body).encode()

    def forget_switched_off(self):
        """With realistic mode off, every command sent so far has reached its outcome for good."""
        if not self.realism.enabled:
            with self.lock:
                for command in self.commands.values():
                    command.realistic = False

    def window(self, behaviour: str) -> float:
        return self.realism.seconds(behaviour) if self.realism.on(behaviour) else 0.0

    def windows(self, command: Command) -> tuple[float, float]:
        """Seconds after sending when the command leaves Pending, and when it reaches its outcome."""
        if not command.realistic:
            return 0.0, 0.0
        pending = self.window("ssmCommandPending")
        return pending, pending + self.window("ssmCommandRunning")

    def take(self, region: str, instance_ids: list[str]) -> Outcome | None:
        with self.lock:
            for o in self.outcomes:
                if o.remaining > 0 and o.matches(region, instance_ids):
                    o.remaining -= 1
                    if o.remaining == 0:
                        self.outcomes.remove(o)
                    return o
        return None
