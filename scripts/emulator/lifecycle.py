"""EC2 in realistic mode: new ids not yet visible, endpoints and instances that take time to change
state, and deletes refused while something still uses what is deleted.

States are moto's own objects, changed in place: moto's filters (`instance-state-name`,
`vpc-endpoint-state`) and every response then agree with each other. Transitions are applied
lazily, under the emulator's moto lock, before each call goes into moto.
"""

import re
import threading
import time
from dataclasses import dataclass

from protocol import Call
from realism import Realism

ACCOUNT_ID = "123456789012"

# What a Create call makes: the prefix of the ids it returns that are new.
CREATED = {
    "CreateVpc": "vpc",
    "CreateSubnet": "subnet",
    "CreateInternetGateway": "igw",
    "CreateRouteTable": "rtb",
    "AssociateRouteTable": "rtbassoc",
    "CreateSecurityGroup": "sg",
    "CreateVpcEndpoint": "vpce",
    "RunInstances": "i",
    "CreateNetworkInterface": "eni",
    "CreateVolume": "vol",
}
# What AWS answers when an id it does not know (yet) is named.
NOT_FOUND = {
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{id}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{id}' does not exist"),
    "igw": ("InvalidInternetGatewayID.NotFound", "The internetGateway ID '{id}' does not exist"),
    "rtb": ("InvalidRouteTableID.NotFound", "The routeTable ID '{id}' does not exist"),
    "rtbassoc": ("InvalidAssociationID.NotFound", "The association ID '{id}' does not exist"),
    "sg": ("InvalidGroup.NotFound", "The security group '{id}' does not exist"),
    "vpce": ("InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id '{id}' does not exist"),
    "i": ("InvalidInstanceID.NotFound", "The instance ID '{id}' does not exist"),
    "eni": ("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '{id}' does not exist"),
    "vol": ("InvalidVolume.NotFound", "The volume '{id}' does not exist."),
}
INSTANCE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}


@dataclass
class Transition:
    began: float  # due when the behaviour's duration, as set now, has passed since
    obj: object  # a moto Instance or VPCEndPoint
    kind: str  # "instance" or "endpoint"
    source: str  # the state it leaves; a transition whose object changed state meanwhile is dropped
    target: str
    behaviour: str


def set_state(obj, kind: str, state: str):
    if kind == "instance":
        obj._state.name = state
        obj._state.code = INSTANCE_CODES[state]
    else:
        obj.state = state


def state_of(obj, kind: str) -> str:
    return obj._state.name if kind == "instance" else obj.state


class EC2Lifecycle:
    def __init__(self, realism: Realism, clock=time.time):
        self.realism = realism
        self.clock = clock
        self.lock = threading.Lock()
        self.transitions: list[Transition] = []
        self.running_since: dict[str, float] = {}  # instance id -> when it last became running
        self.fresh: dict[str, tuple[str, float]] = {}  # new id -> (region, when it was created)

    # --- moto hooks -----------------------------------------------------------------------------

    def install(self):
        """Wraps moto's EC2 backend so that, in realistic mode, state changes take time."""
        from moto.ec2.models import EC2Backend

        lifecycle = self

        def wrap(name, hook):
            original = getattr(EC2Backend, name)

            def wrapper(self, *args, **kwargs):
                result = original(self, *args, **kwargs)
                hook(self, result, args, kwargs)
                return result

            setattr(EC2Backend, name, wrapper)

        def ran(backend, reservation, args, kwargs):
            for instance in reservation.instances:
                lifecycle.begin(instance, "instance", "pending", "running", "instancePending")

        def started(backend, results, args, kwargs):
            for instance, previous in results:
                if previous.name != "running":
                    lifecycle.begin(instance, "instance", "pending", "running", "instancePending")

        def stopped(backend, results, args, kwargs):
            for instance, previous in results:
                if previous.name not in ("stopping", "stopped", "shutting-down", "terminated"):
                    lifecycle.begin(instance, "instance", "stopping", "stopped", "instanceStopping")

        def terminated(backend, results, args, kwargs):
            for instance, previous in results:
                if previous.name not in ("shutting-down", "terminated"):
                    lifecycle.begin(instance, "instance", "shutting-down", "terminated", "instanceShuttingDown")

        def endpoint_created(backend, endpoint, args, kwargs):
            lifecycle.begin(endpoint, "endpoint", "pending", "available", "endpointPending")

        original_delete = EC2Backend.delete_vpc_endpoints

        def delete_vpc_endpoints(self, vpce_ids=None):
            before = {i: getattr(self.vpc_end_points.get(i), "state", None) for i in vpce_ids or []}
            result = original_delete(self, vpce_ids)
            for vpce_id, state in before.items():
                endpoint = self.vpc_end_points.get(vpce_id)
                if endpoint is not None and state not in (None, "deleting", "deleted"):
                    lifecycle.begin(endpoint, "endpoint", "deleting", "deleted", "endpointDeleting")
            return result

        EC2Backend.delete_vpc_endpoints = delete_vpc_endpoints
        wrap("run_instances", ran)
        wrap("start_instances", started)
        wrap("stop_instances", stopped)
        wrap("terminate_instances", terminated)
        wrap("create_vpc_endpoint", endpoint_created)

    def begin(self, obj, kind: str, source: str, target: str, behaviour: str):
        """moto has just put `obj` in `target`; in realistic mode it passes through `source` first."""
        now = self.clock()
        if not self.realism.on(behaviour):
            if kind == "instance" and target == "running":
                self.running_since[obj.id] = now
            return
        set_state(obj, kind, source)
        with self.lock:
            self.transitions = [t for t in self.transitions if t.obj is not obj]
            self.transitions.append(Transition(now, obj, kind, source, target, behaviour))

    def due(self, t: Transition, now: float) -> float | None:
        """When the transition happens, with durations as set now; None when it is due already."""
        if not self.realism.on(t.behaviour):
            return None
        at = t.began + self.realism.seconds(t.behaviour)
        return at if at > now else None

    def settle(self):
        """Applies every transition that is due, or all of them where realism is now off. Call under the moto lock.

        Durations are read now, not when the transition began: shortening one (or switching the
        behaviour off) releases what waits on it, as CloudTrail's delivery delay does."""
        now = self.clock()
        with self.lock:
            due = [t for t in self.transitions if self.due(t, now) is None]
            self.transitions = [t for t in self.transitions if t not in due]
        for t in sorted(due, key=lambda t: t.began):
            if state_of(t.obj, t.kind) != t.source:
                continue
            set_state(t.obj, t.kind, t.target)
            if t.kind == "instance" and t.target == "running":
                self.running_since[t.obj.id] = min(now, t.began + self.realism.seconds(t.behaviour))

    def forget_switched_off(self):
        """After a settings change: what a behaviour now off held back is released for good, so
        switching it on again later does not hold it back anew. Call under the moto lock."""
        self.settle()
        if not self.realism.on("eventualConsistency"):
            with self.lock:
                self.fresh.clear()

    # --- what a call may not do yet -------------------------------------------------------------

    def refuse(self, call: Call):
        """(code, message, status) when realistic EC2 refuses the call, else None. Call under the moto lock."""
        if call.service != "ec2":
            return None
        if self.realism.on("eventualConsistency"):
            refusal = self.unseen(call)
            if refusal:
                return refusal
        if self.realism.on("dependencyViolation"):
            if call.operation == "DeleteSubnet" and call.params.get("SubnetId"):
                return self.subnet_in_use(call.region, call.params["SubnetId"])
            if call.operation == "DeleteSecurityGroup" and call.params.get("GroupId"):
                return self.group_in_use(call.region, call.params["GroupId"])
        return None

    def unseen(self, call: Call):
        # The window is read now, so shortening it makes new ids visible at once.
        horizon = self.clock() - self.realism.seconds("eventualConsistency")
        with self.lock:
            for key in [k for k, (_, created) in self.fresh.items() if created <= horizon]:
                del self.fresh[key]
            if not self.fresh:
                return None
            for key, value in call.params.items():
                if key.startswith("Filter.") or not isinstance(value, str):
                    continue
                entry = self.fresh.get(value)
                if entry and entry[0] == call.region:
                    code, message = NOT_FOUND[value.split("-")[0]]
                    return code, message.format(id=value), 400
        return None

    def remember_created(self, call: Call, status: int, body: bytes):
        """After a successful Create call, its new ids stay unseen for a moment."""
        prefix = CREATED.get(call.operation)
        if call.service != "ec2" or status >= 400 or prefix is None or not self.realism.on("eventualConsistency"):
            return
        named = set(v for v in call.params.values() if isinstance(v, str))
        now = self.clock()
        with self.lock:
            for m in re.finditer(rb"\b(" + prefix.encode() + rb"-[0-9a-f]{8,17})\b", body):
                new_id = m.group(1).decode()
                if new_id not in named:
                    self.fresh[new_id] = (call.region, now)

    def backend(self, region: str):
        from moto.ec2.models import ec2_backends

        return ec2_backends[ACCOUNT_ID][region]

    def live_instances(self, region: str):
        for reservation in list(self.backend(region).reservations.values()):
            for instance in reservation.instances:
                if instance._state.name != "terminated":
                    yield instance

    def live_endpoints(self, region: str):
        return [e for e in list(self.backend(region).vpc_end_points.values()) if e.state != "deleted"]

    def subnet_in_use(self, region: str, subnet_id: str):
        users = [e.id for e in self.live_endpoints(region) if subnet_id in (e.subnet_ids or [])]
        users += [i.id for i in self.live_instances(region) if i.subnet_id == subnet_id]
        if users:
            return "DependencyViolation", f"The subnet '{subnet_id}' has dependencies and cannot be deleted.", 400
        return None

    def group_in_use(self, region: str, group_id: str):
        used = any(group_id in (e.security_group_ids or []) for e in self.live_endpoints(region))
        used = used or any(group_id in instance_groups(i) for i in self.live_instances(region))
        if not used:
            backend = self.backend(region)
            for groups in list(backend.groups.values()):
                for group in list(groups.values()):
                    if group.id == group_id:
                        continue
                    for rule in list(group.ingress_rules) + list(group.egress_rules):
                        if (getattr(rule, "source_group", None) or {}).get("GroupId") == group_id:
                            used = True
        if used:
            return "DependencyViolation", f"resource {group_id} has a dependent object", 400
        return None

    # --- SSM's view -----------------------------------------------------------------------------

    def agent_ready_at(self, region: str, instance_id: str) -> float | None:
        """When the instance's SSM agent has registered (or will), or None when it is not running. Call under the moto lock."""
        try:
            instance = self.backend(region).get_instance(instance_id)
        except Exception:
            return None
        if instance._state.name != "running":
            return None
        since = self.running_since.get(instance_id, 0.0)
        if not self.realism.on("ssmAgentRegistration"):
            return since
        return since + self.realism.seconds("ssmAgentRegistration")


def instance_groups(instance) -> set[str]:
    ids = set()
    for group in getattr(instance, "security_groups", None) or []:
        ids.add(getattr(group, "id", group))
    for nic in (getattr(instance, "nics", None) or {}).values():
        for group in getattr(nic, "group_set", None) or []:
            ids.add(getattr(group, "id", group))
    return ids
