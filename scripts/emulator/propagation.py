"""IAM in realistic mode: a new role or instance profile is not usable at once.

AWS: "Changes that you make in IAM take time to become visible" (IAM's eventual consistency). For
some seconds after a role and its instance profile are created, RunInstances naming the profile
answers InvalidParameterValue ("Invalid IAM Instance Profile name"), and AssumeRole on the role is
refused with AccessDenied.
"""

import threading
import time

from protocol import Call
from realism import Realism


class IAMPropagation:
    def __init__(self, realism: Realism, identity, clock=time.time):
        self.realism = realism
        self.identity = identity  # access key id -> CloudTrail userIdentity (for AccessDenied's message)
        self.clock = clock
        self.lock = threading.Lock()
        # name -> when it last changed; usable once the propagation window, as set now, has passed
        self.roles: dict[str, float] = {}
        self.profiles: dict[str, float] = {}

    def remember(self, call: Call, status: int):
        """Notes the IAM changes that start a propagation window."""
        if call.service != "iam" or status >= 400 or not self.realism.on("iamPropagation"):
            return
        now = self.clock()
        role = call.params.get("RoleName")
        profile = call.params.get("InstanceProfileName")
        with self.lock:
            if call.operation in ("CreateRole", "UpdateAssumeRolePolicy") and role:
                self.roles[role] = now
            if call.operation == "CreateInstanceProfile" and profile:
                self.profiles[profile] = now
            if call.operation == "AddRoleToInstanceProfile" and profile:
                self.profiles[profile] = max(now, self.profiles.get(profile, 0.0))

    def forget_switched_off(self):
        if not self.realism.on("iamPropagation"):
            with self.lock:
                self.roles.clear()
                self.profiles.clear()

    def refuse(self, call: Call):
        """(code, message, status) while a role or profile the call names has not propagated, else None."""
        if not self.realism.on("iamPropagation"):
            return None
        horizon = self.clock() - self.realism.seconds("iamPropagation")
        if call.service == "ec2" and call.operation in ("RunInstances", "AssociateIamInstanceProfile",
                                                        "ReplaceIamInstanceProfileAssociation"):
            for key, kind in (("IamInstanceProfile.Name", "name"), ("IamInstanceProfile.Arn", "arn")):
                value = call.params.get(key)
                if value and self.profiles.get(value.split("/")[-1], 0.0) > horizon:
                    what = "name" if kind == "name" else "ARN"
                    return ("InvalidParameterValue",
                            f"Value ({value}) for parameter iamInstanceProfile.{kind} is invalid. "
                            f"Invalid IAM Instance Profile {what}", 400)
        if call.service == "sts" and call.operation.startswith("AssumeRole"):
            arn = call.params.get("RoleArn") or ""
            if arn and self.roles.get(arn.split("/")[-1], 0.0) > horizon:
                if call.operation == "AssumeRole":
                    caller = self.identity(call.access_key_id).get("arn", "")
                    return ("AccessDenied",
                            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}", 403)
                return "AccessDenied", f"Not authorized to perform sts:{call.operation}", 403
        return None
