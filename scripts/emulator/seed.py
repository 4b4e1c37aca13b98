"""What moto lacks and reclaw needs: Canonical's Ubuntu 24.04 AMIs and their public SSM parameters."""

import hashlib
import threading
from datetime import datetime, timezone

ACCOUNT_ID = "123456789012"
CANONICAL = "099720109477"
ARCHITECTURES = {"arm64": "arm64", "amd64": "x86_64"}


def parameter_name(arch: str) -> str:
    return f"/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"


def ami_id(region: str, arch: str, generation: int) -> str:
    digest = hashlib.sha256(f"{region}/{arch}/{generation}".encode()).hexdigest()
    return "ami-" + digest[:17]


class Seeder:
    """Seeds each region once, on its first EC2 or SSM call; rotates an AMI on request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seeded: set[str] = set()
        self.generation: dict[tuple[str, str], int] = {}

    def ensure(self, region: str):
        with self.lock:
            if region in self.seeded:
                return
            self.seeded.add(region)
            for arch in ARCHITECTURES:
                self._publish(region, arch, 1)

    def rotate(self, region: str, arch: str) -> str:
        self.ensure(region)
        with self.lock:
            generation = self.generation[(region, arch)] + 1
            return self._publish(region, arch, generation)

    def current(self, region: str, arch: str) -> str:
        self.ensure(region)
        return ami_id(region, arch, self.generation[(region, arch)])

    def _publish(self, region: str, arch: str, generation: int) -> str:
        from moto.ec2.models import ec2_backends
        from moto.ec2.models.amis import Ami
        from moto.ssm.models import Parameter, ssm_backends

        image = ami_id(region, arch, generation)
        ec2 = ec2_backends[ACCOUNT_ID][region]
        stamp = datetime.now(timezone.utc)
        ec2.amis[image] = Ami(
            ec2,
            image,
            name=f"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{arch}-server-{stamp:%Y%m%d}.{generation}",
            description=f"Canonical, Ubuntu, 24.04, {arch} noble image",
            owner_id=CANONICAL,
            public=True,
            virtualization_type="hvm",
            architecture=ARCHITECTURES[arch],
            root_device_type="ebs",
            root_device_name="/dev/sda1",
            region_name=region,
        )
        params = ssm_backends[ACCOUNT_ID][region]._parameters
        name = parameter_name(arch)
        versions = params[name]
        versions.append(Parameter(
            account_id=ACCOUNT_ID, name=name, value=image, parameter_type="String", description=None,
            allowed_pattern=None, keyid=None, last_modified_date=stamp, version=len(versions) + 1,
            data_type="aws:ec2:image",
        ))
        self.generation[(region, arch)] = generation
        return image
