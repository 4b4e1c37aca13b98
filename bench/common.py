"""What reclaw's benchmarks share: a private emulator, a git repository of specs, the daemon, and
changes made by another identity."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EMULATOR = os.path.join(ROOT, "scripts/emulator/emulator.py")


def admin(url, route, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{url}/_emulator/{route}", data=data, method=method or ("POST" if data else "GET"))
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def spec(name, region, version="2026.2.3", extra=""):
    return (f"apiVersion: reclaw.dev/v1alpha1\nkind: OpenClawDeployment\nmetadata: {{name: {name}}}\n"
            f"spec:\n  region: {region}\n  openclaw: {{version: \"{version}\"}}\n{extra}")


class Emulator:
    """A private emulator, stopped when the benchmark ends."""

    def __init__(self, *extra):
        self.state = tempfile.mkdtemp(prefix="reclaw-bench-emulator-")
        self.url = subprocess.run([sys.executable, EMULATOR, "start", "--state-dir", self.state, "--watch-pid", str(os.getpid()), *extra],
                                  check=True, capture_output=True, text=True).stdout.strip()

    def stop(self):
        subprocess.run([sys.executable, EMULATOR, "stop", "--state-dir", self.state], capture_output=True)

    def env(self, state_dir):
        return dict(os.environ, AWS_ENDPOINT_URL=self.url, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench",
                    AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null",
                    AWS_SHARED_CREDENTIALS_FILE="/dev/null", RECLAW_STATE_DIR=state_dir)

    def boto3(self, service, region, key=("x", "x")):
        import boto3
        return boto3.client(service, endpoint_url=self.url, region_name=region, aws_access_key_id=key[0], aws_secret_access_key=key[1])

    def intruder(self, name):
        """Another IAM user's key, as a colleague with the console would have."""
        iam = self.boto3("iam", "us-east-1")
        iam.create_user(UserName=name)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def instance_sg(self, deployment, region):
        ec2 = self.boto3("ec2", region)
        return ec2.describe_security_groups(Filters=[{"Name": "tag:reclaw:deployment", "Values": [deployment]},
                                                     {"Name": "tag:reclaw:component", "Values": ["instance-sg"]}])["SecurityGroups"][0]

    def open_port(self, deployment, region, port, key):
        sg = self.instance_sg(deployment, region)
        self.boto3("ec2", region, key).authorize_security_group_ingress(
            GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    def ports(self, deployment, region):
        return [p.get("FromPort") for p in self.instance_sg(deployment, region)["IpPermissions"]]


class Repository:
    """A bare git repository the daemon polls, and a work tree to push from."""

    def __init__(self, files):
        self.dir = tempfile.mkdtemp(prefix="reclaw-bench-repo-")
        self.bare, self.work = f"{self.dir}/specs.git", f"{self.dir}/work"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", self.bare], check=True)
        subprocess.run(["git", "init", "-q", "-b", "main", self.work], check=True)
        for k, v in [("user.name", "bench"), ("user.email", "bench@example.com")]:
            subprocess.run(["git", "-C", self.work, "config", k, v], check=True)
        subprocess.run(["git", "-C", self.work, "remote", "add", "origin", self.bare], check=True)
        self.commit(files)

    @property
    def url(self):
        return "file://" + self.bare

    def commit(self, files):
        for path, text in files.items():
            with open(f"{self.work}/{path}", "w") as f:
                f.write(text)
        subprocess.run(["git", "-C", self.work, "add", "-A"], check=True)
        subprocess.run(["git", "-C", self.work, "commit", "-q", "-m", "change"], check=True)
        subprocess.run(["git", "-C", self.work, "push", "-q", "origin", "main"], check=True)
        return subprocess.run(["git", "-C", self.work, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def status(binary, env):
    r = subprocess.run([binary, "status", "--json"], env=env, capture_output=True, text=True)
    try:
        return {row["deployment"]: row for row in json.loads(r.stdout)}
    except ValueError:
        return {}


def ready(row):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in row.get("conditions", []))


def wait(condition, timeout, step=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def stop(daemon, timeout=60):
    """SIGTERM, as an operator stops reclaw; kill only if it does not exit in time."""
    if daemon is None:
        return
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        daemon.kill()


def memory_mib(pid):
    """Resident memory of a process in MiB: (all, anonymous, file-backed). Anonymous memory is what
    the process allocated; file-backed is its executable and libraries paged in, bounded by their size."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("RssAnon", 0.0), fields.get("RssFile", 0.0)
