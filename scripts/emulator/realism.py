"""The emulator's realistic mode: which of AWS's documented delays and refusals are on, and how long each lasts.

moto answers at once and forgives everything; AWS does neither. In realistic mode the emulator
reproduces what AWS documents, with every delay multiplied by a scale factor (default 0.1) so tests
stay short. Each behaviour can be switched on or off on its own and given its own duration
(`seconds`, which then wins over `awsSeconds * scale`).

| behaviour            | what it does                                                       | AWS      | at 0.1  |
|----------------------|--------------------------------------------------------------------|----------|---------|
| eventualConsistency  | a new EC2 id answers `…NotFound` when described or named in a call | ~5 s     | 0.5 s   |
| endpointPending      | an interface endpoint stays `pending` before `available`           | 1-3 min  | 12 s    |
| endpointDeleting     | a deleted endpoint stays `deleting` before `deleted`               | ~1 min   | 6 s     |
| instancePending      | an instance stays `pending` before `running` (run and start)       | ~30 s    | 3 s     |
| instanceStopping     | `stopping` before `stopped`                                        | ~45 s    | 4.5 s   |
| instanceShuttingDown | `shutting-down` before `terminated`                                | ~45 s    | 4.5 s   |
| dependencyViolation  | DeleteSubnet/DeleteSecurityGroup refused while an endpoint or instance still uses it, or another group's rule names the group | - | - |
| iamPropagation       | a new role/instance profile is refused by RunInstances and AssumeRole | ~15 s | 1.5 s   |
| ssmAgentRegistration | SendCommand answers InvalidInstanceId until the agent registered, counted from `running` | 1-2 min | 9 s |
| ssmInvocationDelay   | GetCommandInvocation answers InvocationDoesNotExist after SendCommand | ~3 s  | 0.3 s   |
| ssmCommandPending    | a command invocation stays `Pending`                               | ~3 s     | 0.3 s   |
| ssmCommandRunning    | then `InProgress`, before `Success` (or the outcome set by admin)  | ~20 s    | 2 s     |
| cloudTrailDelivery   | events reach LookupEvents late                                     | ~5 min (up to 15) | 30 s |
| cloudTrailScope      | STS events recorded in us-east-1 like IAM's; data events (DynamoDB items, SQS messages) absent from LookupEvents | - | - |
| eventBridgeDelivery  | CloudTrail's events reach EventBridge late (AWS does not document it) | ~1 min | 6 s    |
| taggingIndexLag      | tagging GetResources lists a parameter only after it was created or tagged this long ago (the index is eventually consistent) | ~1 min | 6 s |
| rateLimits           | token buckets per service, region, access key (and API, for EC2); not scaled: a request costs what it costs on AWS | - | - |

Rate limits (burst, refill per second): EC2 documents 100/20 for each non-mutating API and 200/5 for
each mutating one ("Request throttling for the Amazon EC2 API"); IAM, STS and SSM publish no bucket,
the values below are in the range their quotas imply.
"""

import threading

BEHAVIOURS: dict[str, float | None] = {
    "eventualConsistency": 5,
    "endpointPending": 120,
    "endpointDeleting": 60,
    "instancePending": 30,
    "instanceStopping": 45,
    "instanceShuttingDown": 45,
    "dependencyViolation": None,
    "iamPropagation": 15,
    "ssmAgentRegistration": 90,
    "ssmInvocationDelay": 3,
    "ssmCommandPending": 3,
    "ssmCommandRunning": 20,
    "cloudTrailDelivery": 300,
    "cloudTrailScope": None,
    "eventBridgeDelivery": 60,
    "taggingIndexLag": 60,
    "rateLimits": None,
}

DEFAULT_SCALE = 0.1

# (burst, refill per second), by bucket class: "<service>.read", "<service>.write", "<service>", "default".
DEFAULT_BUCKETS: dict[str, tuple[float, float]] = {
    "ec2.read": (100, 20),
    "ec2.write": (200, 5),
    "iam.read": (40, 20),
    "iam.write": (20, 10),
    "sts": (100, 50),
    "ssm.read": (40, 40),
    "ssm.write": (20, 5),
    "default": (50, 25),
}


class Realism:
    """The realistic mode's switches. Read from any thread; changed by the admin API."""

    def __init__(self):
        self.lock = threading.Lock()
        self.enabled = False
        self.scale = DEFAULT_SCALE
        self.switches = {name: True for name in BEHAVIOURS}
        self.explicit: dict[str, float] = {}
        self.buckets = dict(DEFAULT_BUCKETS)
        self.listeners = []  # called with no argument after every change

    def on(self, name: str) -> bool:
        return self.enabled and self.switches[name]

    def seconds(self, name: str) -> float:
        """The behaviour's duration: its own `seconds` if set, else AWS's value times the scale."""
        if name in self.explicit:
            return self.explicit[name]
        return float(BEHAVIOURS[name] or 0) * self.scale

    def bucket(self, service: str, read_only: bool) -> tuple[float, float]:
        kind = "read" if read_only else "write"
        for key in (f"{service}.{kind}", service, "default"):
            if key in self.buckets:
                return self.buckets[key]
        return DEFAULT_BUCKETS["default"]

    def configure(self, spec: dict):
        """Applies an admin or command-line change; unknown names and bad values are refused whole."""
        if not isinstance(spec, dict):
            raise ValueError("the realism settings must be a JSON object")
        unknown = set(spec) - {"enabled", "scale", "behaviours", "reset"}
        if unknown:
            raise ValueError(f"unknown realism settings {sorted(unknown)}; known: enabled, scale, behaviours, reset")
        behaviours = spec.get("behaviours") or {}
        if not isinstance(behaviours, dict):
            raise ValueError("behaviours must be an object keyed by behaviour name")
        for name, b in behaviours.items():
            if name not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {name!r}; known: {', '.join(BEHAVIOURS)}")
            if not isinstance(b, dict):
                raise ValueError(f"behaviour {name} must be an object like {{\"enabled\": true, \"seconds\": 2}}")
            extra = set(b) - {"enabled", "seconds", "buckets"}
            if extra:
                raise ValueError(f"behaviour {name}: unknown keys {sorted(extra)}")
            if b.get("seconds") is not None and (not isinstance(b["seconds"], (int, float)) or b["seconds"] < 0):
                raise ValueError(f"behaviour {name}: seconds must be a number >= 0")
            if "buckets" in b:
                if name != "rateLimits":
                    raise ValueError(f"behaviour {name} has no buckets")
                for key, value in (b["buckets"] or {}).items():
                    if not isinstance(value, dict) or not {"burst", "refillPerSecond"} <= set(value):
                        raise ValueError(f"bucket {key} must be {{\"burst\": N, \"refillPerSecond\": R}}")
        scale = spec.get("scale")
        if scale is not None and (not isinstance(scale, (int, float)) or scale < 0):
            raise ValueError("scale must be a number >= 0")
        with self.lock:
            if spec.get("reset"):
                self.scale = DEFAULT_SCALE
                self.switches = {name: True for name in BEHAVIOURS}
                self.explicit = {}
                self.buckets = dict(DEFAULT_BUCKETS)
            if "enabled" in spec:
                self.enabled = bool(spec["enabled"])
            if scale is not None:
                self.scale = float(scale)
            for name, b in behaviours.items():
                if "enabled" in b:
                    self.switches[name] = bool(b["enabled"])
                if "seconds" in b:
                    if b["seconds"] is None:
                        self.explicit.pop(name, None)
                    else:
                        self.explicit[name] = float(b["seconds"])
                for key, value in (b.get("buckets") or {}).items():
                    self.buckets[key] = (float(value["burst"]), float(value["refillPerSecond"]))
        for listener in self.listeners:
            listener()

    def set_seconds(self, name: str, seconds: float):
        with self.lock:
            self.explicit[name] = float(seconds)

    def to_json(self) -> dict:
        behaviours = {}
        for name, aws in BEHAVIOURS.items():
            b = {"enabled": self.switches[name], "active": self.on(name)}
            if aws is not None:
                b.update(seconds=self.seconds(name), awsSeconds=aws, explicit=name in self.explicit)
            if name == "rateLimits":
                b["buckets"] = {k: {"burst": v[0], "refillPerSecond": v[1]} for k, v in self.buckets.items()}
            behaviours[name] = b
        return {"enabled": self.enabled, "scale": self.scale, "behaviours": behaviours}
