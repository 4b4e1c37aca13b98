#!/usr/bin/env python3
"""reclaw against AWS's delays and refusals: the daemon on N deployments in two regions, with the
emulator in realistic mode (endpoints and instances pending, new ids briefly NotFound, IAM
propagating, SSM agents registering late, rate limits). Prints:

  * the cold start: how long until every deployment is Ready, and how many failure events
    (ReconcileFailed, ActionFailed) it cost (target: none);
  * commit-to-applied: a version bump pushed, until it is applied on the instance through SSM;
  * drift-to-corrected: a rule added by another identity, until reclaw has removed it;
  * what the emulator refused meanwhile, by error code (the transients reclaw waited out).

Durations are AWS's times `--scale` (the emulator's default 0.1); reclaw's own deadlines stay as
on AWS.

usage: bench/realistic.py [--reclaw .build/debug/reclaw] [--deployments 4] [--scale 0.1]
                          [--interval 5] [--drift-interval 10]
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from common import Emulator, ROOT, Repository, admin, ready, spec, status, stop, wait

FAILURES = ("ReconcileFailed", "ActionFailed")


def audit_events(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/debug/reclaw"))
    p.add_argument("--deployments", type=int, default=4)
    p.add_argument("--scale", type=float, default=0.1)
    p.add_argument("--interval", type=int, default=5)
    p.add_argument("--drift-interval", type=int, default=10)
    args = p.parse_args()
    regions = ["us-east-2", "eu-west-1"]
    names = [f"real-{i}" for i in range(args.deployments)]
    region_of = {n: regions[i % 2] for i, n in enumerate(names)}
    emulator = Emulator("--realistic", "--scale", str(args.scale))
    daemon = None
    try:
        state = tempfile.mkdtemp(prefix="reclaw-bench-realistic-")
        env = emulator.env(f"{state}/state")
        audit = f"{state}/state/audit.log"
        repo = Repository({f"{n}.yaml": spec(n, region_of[n]) for n in names})
        log = open(f"{state}/daemon.log", "w")
        started = time.monotonic()
        daemon = subprocess.Popen([args.reclaw, "run", "--source", repo.url, "--interval", f"{args.interval}s",
                                   "--drift-interval", f"{args.drift_interval}s", "--deployment-concurrency", str(args.deployments)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        print(f"reclaw daemon on {args.deployments} deployments in {', '.join(regions)}; emulator in realistic mode at scale {args.scale}")
        print(f"  fetch interval {args.interval}s, drift interval {args.drift_interval}s\n")

        all_ready = wait(lambda: all(ready(status(args.reclaw, env).get(n, {})) for n in names), 600, step=0.5)
        cold_s = time.monotonic() - started
        cold_failures = [e for e in audit_events(audit) if e.get("eventType") in FAILURES]
        print(f"  cold start, every deployment Ready after .. {cold_s:6.1f} s  {'' if all_ready else '(NOT READY; see ' + state + '/daemon.log)'}")
        print(f"  failure events during the cold start ...... {len(cold_failures):6d}    (target 0) {'met' if not cold_failures else 'MISSED'}")

        edited = names[0]
        revision = repo.commit({f"{edited}.yaml": spec(edited, region_of[edited], version="2026.3.0")})
        pushed = time.monotonic()
        applied = wait(lambda: status(args.reclaw, env).get(edited, {}).get("lastAppliedRevision") == revision, 300)
        commit_s = time.monotonic() - pushed
        print(f"  commit-to-applied (SSM converge) .......... {commit_s:6.1f} s  {'' if applied else '(NOT APPLIED)'}")

        target = names[-1]
        key = emulator.intruder("bench-intruder")
        emulator.open_port(target, region_of[target], 22, key)
        opened = time.monotonic()
        corrected = wait(lambda: emulator.ports(target, region_of[target]) == [], args.drift_interval * 10)
        drift_s = time.monotonic() - opened
        print(f"  drift-to-corrected ........................ {drift_s:6.1f} s  {'' if corrected else '(NOT CORRECTED)'}")

        failures = [e for e in audit_events(audit) if e.get("eventType") in FAILURES]
        refused = collections.Counter(r.get("errorCode") for r in admin(emulator.url, "requests")["requests"] if r.get("outcome") == "refused")
        print(f"  failure events in all ..................... {len(failures):6d}    (target 0) {'met' if not failures else 'MISSED'}")
        print("\n  refused by the emulator and waited out:")
        for code, n in refused.most_common():
            print(f"    {code:40s} {n:5d}")
        for e in failures:
            print(f"  FAILURE {e.get('eventType')} {e.get('deployment')} {e.get('errorCode')}: {e.get('errorMessage', '')[:300]}")
        sys.exit(0 if all_ready and applied and corrected and not failures else 1)
    finally:
        stop(daemon)
        emulator.stop()


if __name__ == "__main__":
    main()
