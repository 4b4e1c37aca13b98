#!/usr/bin/env python3
"""Lease-table cost: R `reclaw run` replicas share N deployments through a lease table on the
emulator's DynamoDB; once every lease is held, the table's calls are counted for a window and
printed per second, by operation, for each N. The target (issue 25, item 5): at steady state the
writes per second depend on the number of replicas, not of deployments.

Only the lease table is measured here: every call in the deployments' region is refused by the
emulator (an injected UnauthorizedOperation), so the replicas' reconciles fail fast and back off
instead of creating N deployments' resources; their lease rounds are what they would be anyway.

Beside each figure the scheme before this one is shown for comparison: every held lease
rewritten each round (N x 5 / lease writes a second), plus one heartbeat per replica per round.
Reads: a round reads the table's index `kind` (two Queries), which holds only the small records;
before, a round was a consistent Scan, which DynamoDB bills by the whole items read, each
deployment's state documents (about 18 KB once converged) included.

State writes are counted apart: a deployment's status is shared on its lease item after each
reconcile (fenced by the lease's epoch). Here every reconcile fails and is retried with backoff,
so they are far above a converged fleet's, where they come once per deployment per drift check
(N / --drift-interval a second).

usage: bench/leases.py [--reclaw .build/release/reclaw] [--sizes 100,1000] [--replicas 3]
                       [--lease 20] [--window 60]
"""

import argparse
import collections
import math
import os
import subprocess
import tempfile
import time

from common import Emulator, ROOT, Repository, admin, spec, stop, wait

REGION = "eu-west-3"
CONVERGED = 18 * 1024  # bytes of a converged deployment's status document, as measured by bench/rollout.py's runs
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def kind(r):
    """What a DynamoDB call was: a heartbeat, a lease item's change of owner, a deployment's shared
    state (its status after a reconcile), or a read."""
    if r.get("operation") not in WRITES:
        return r.get("operation")
    if r.get("state"):
        return "state"
    return "heartbeat" if str(r.get("item", "")).startswith("replica#") else "lease"


def dynamodb_calls(url):
    return collections.Counter(kind(r) for r in admin(url, "requests")["requests"] if r.get("service") == "dynamodb")


def item_bytes(items):
    """DynamoDB's size of items: attribute names and values, roughly as it bills them."""
    def size(v):
        (t, x), = v.items()
        if t in ("S", "N"):
            return len(str(x).encode())
        if t == "BOOL":
            return 1
        if t == "M":
            return sum(len(k) + size(w) for k, w in x.items()) + 3
        if t == "L":
            return sum(size(w) for w in x) + 3
        return len(str(x))
    return sum(sum(len(k.encode()) + size(v) for k, v in i.items()) for i in items)


def read_bytes(emulator, table):
    """What a round reads now (the index, both kinds) and what a Scan of the whole items read before."""
    db = emulator.boto3("dynamodb", "us-east-1")
    index = []
    for kind in ("replica", "lease"):
        index += db.query(TableName=table, IndexName="kind", KeyConditionExpression="#k = :k",
                          ExpressionAttributeNames={"#k": "kind"}, ExpressionAttributeValues={":k": {"S": kind}})["Items"]
    whole = db.scan(TableName=table, ConsistentRead=True)["Items"]
    return item_bytes(index), item_bytes(whole)


def leases_held(emulator, table):
    items = emulator.boto3("dynamodb", "us-east-1").scan(TableName=table, ConsistentRead=True)["Items"]
    return collections.Counter(i["owner"]["S"] for i in items if i["pk"]["S"].startswith("lease#") and i.get("owner", {}).get("S"))


def measure(binary, n, replicas, lease, window):
    emulator = Emulator()
    daemons = []
    try:
        admin(emulator.url, "faults", {"region": REGION, "operation": "*", "count": None,
                                       "error": {"code": "UnauthorizedOperation", "status": 403}})
        repo = Repository({f"d{i:04d}.yaml": spec(f"lease-bench-{i:04d}", REGION) for i in range(n)})
        state = tempfile.mkdtemp(prefix="reclaw-bench-leases-")
        table = "reclaw-leases"
        subprocess.run([binary, "lease", "create-table", table, "--region", "us-east-1"], env=emulator.env(f"{state}/setup"),
                       check=True, capture_output=True)
        for r in range(replicas):
            log = open(f"{state}/r{r}.log", "w")
            daemons.append(subprocess.Popen(
                [binary, "run", "--source", repo.url, "--interval", "1h", "--drift-interval", "1h", "--lease-table", table,
                 "--lease-region", "us-east-1", "--lease-duration", f"{lease}s", "--replica-id", f"r{r}"],
                env=emulator.env(f"{state}/r{r}"), stdout=log, stderr=subprocess.STDOUT))
        started = time.monotonic()
        if not wait(lambda: sum(leases_held(emulator, table).values()) == n, timeout=600, step=2):
            raise SystemExit(f"N={n}: not every lease was held after 600 s: {leases_held(emulator, table)}")
        settled = time.monotonic() - started
        time.sleep(lease)  # the rounds that follow the last acquisitions
        before, t0 = dynamodb_calls(emulator.url), time.monotonic()
        time.sleep(window)
        after, elapsed = dynamodb_calls(emulator.url), time.monotonic() - t0
        delta = {op: (after[op] - before[op]) / elapsed for op in after if after[op] > before[op]}
        return settled, delta, leases_held(emulator, table), read_bytes(emulator, table)
    finally:
        for d in daemons:
            stop(d)
        emulator.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/release/reclaw"))
    p.add_argument("--sizes", default="100,1000")
    p.add_argument("--replicas", type=int, default=3)
    p.add_argument("--lease", type=int, default=20)
    p.add_argument("--window", type=int, default=60)
    a = p.parse_args()
    print(f"{a.replicas} replicas, --lease-duration {a.lease}s (a round every {a.lease / 5:g} s), {a.window} s window at steady state")
    print("writes a second: heartbeats + lease items (ownership) = lease writes; state: statuses shared after reconciles")
    print("reads: read request units a second for the rounds' Query of the index (eventually consistent, 0.5 per 4 KB), beside a")
    print(f"consistent Scan of the whole items (1 per 4 KB) as before, at this table's sizes and with {CONVERGED // 1024} KB statuses (a converged deployment's)")
    print(f"{'N':>6} {'all held':>9} {'heartbeats':>11} {'lease items':>12} {'lease writes':>13} {'before':>8} {'state':>7}"
          f" {'rounds':>7} {'RRU now':>8} {'Scan':>8} {'Scan, converged':>16}  shares")
    for n in [int(s) for s in a.sizes.split(",")]:
        settled, calls, shares, (index_bytes, whole_bytes) = measure(a.reclaw, n, a.replicas, a.lease, a.window)
        lease_writes = calls.get("heartbeat", 0) + calls.get("lease", 0)
        before = n * 5 / a.lease + a.replicas * 5 / a.lease
        rounds = calls.get("Query", 0) / 2  # one Query per kind a round
        now = rounds * math.ceil(index_bytes / 4096) * 0.5
        scan = rounds * math.ceil(whole_bytes / 4096)
        converged = rounds * math.ceil((whole_bytes + n * CONVERGED) / 4096)
        print(f"{n:>6} {settled:>8.0f}s {calls.get('heartbeat', 0):>11.2f} {calls.get('lease', 0):>12.2f} {lease_writes:>13.2f} {before:>8.2f}"
              f" {calls.get('state', 0):>7.2f} {rounds:>7.2f} {now:>8.1f} {scan:>8.1f} {converged:>16.1f}  {dict(sorted(shares.items()))}",
              flush=True)

if __name__ == "__main__":
    main()
