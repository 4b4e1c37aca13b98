#!/usr/bin/env python3
"""One deployment never waits for another: the daemon on N deployments, one of which takes
minutes to apply (every AWS call of it delayed). Prints how long after a change made by hand to
another deployment reclaw corrected it, and how long after a commit to another deployment it was
applied, with the targets:

  * drift on another deployment is corrected within the drift interval plus a few seconds;
  * a commit to another deployment is applied within the fetch interval plus a few seconds.

usage: bench/controller.py [--reclaw .build/debug/reclaw] [--deployments 20] [--slow-ms 3000]
                           [--interval 5] [--drift-interval 10] [--slack 5]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from common import Emulator, ROOT, Repository, admin, ready, spec, status, stop, wait


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/debug/reclaw"))
    p.add_argument("--deployments", type=int, default=20)
    p.add_argument("--slow-ms", type=int, default=3000)
    p.add_argument("--interval", type=int, default=5)
    p.add_argument("--drift-interval", type=int, default=10)
    p.add_argument("--slack", type=float, default=5)
    args = p.parse_args()
    region = "eu-west-2"
    names = [f"ctl-{i}" for i in range(args.deployments)]
    slow = names[0]
    emulator = Emulator()
    daemon = None
    try:
        state = tempfile.mkdtemp(prefix="reclaw-bench-controller-")
        env = emulator.env(f"{state}/state")
        # Every other deployment applied first, so the measurement starts from a converged fleet.
        repo = Repository({f"{n}.yaml": spec(n, region) for n in names[1:]})
        r = subprocess.run([args.reclaw, "apply", "--auto-approve", repo.url], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"the first apply failed:\n{r.stderr[-3000:]}")
        admin(emulator.url, "faults", {"operation": "*", "userAgent": f"deployment/{slow};", "delayMs": args.slow_ms, "count": None})
        repo.commit({f"{slow}.yaml": spec(slow, region)})
        log = open(f"{state}/daemon.log", "w")
        daemon = subprocess.Popen([args.reclaw, "run", "--source", repo.url, "--interval", f"{args.interval}s",
                                   "--drift-interval", f"{args.drift_interval}s", "--deployment-concurrency", "4"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        if not wait(lambda: status(args.reclaw, env).get(slow, {}).get("lastAttemptedRevision"), 60):
            sys.exit(f"the slow deployment's apply did not start; see {state}/daemon.log")
        print(f"reclaw daemon on {args.deployments} deployments; {slow} applies with {args.slow_ms} ms added to each of its AWS calls")
        print(f"  fetch interval {args.interval}s, drift interval {args.drift_interval}s\n")

        target = names[3]
        key = emulator.intruder("bench-intruder")
        emulator.open_port(target, region, 22, key)
        opened = time.monotonic()
        corrected = wait(lambda: emulator.ports(target, region) == [], args.drift_interval * 6)
        drift_s = time.monotonic() - opened

        edited = names[5]
        revision = repo.commit({f"{edited}.yaml": spec(edited, region, version="2026.3.0")})
        pushed = time.monotonic()
        applied = wait(lambda: status(args.reclaw, env).get(edited, {}).get("lastAppliedRevision") == revision, args.interval * 12)
        commit_s = time.monotonic() - pushed

        still_slow = not ready(status(args.reclaw, env).get(slow, {}))
        drift_ok = corrected and drift_s <= args.drift_interval + args.slack
        commit_ok = applied and commit_s <= args.interval + args.slack
        print(f"  drift on {target} corrected after ........ {drift_s:6.1f} s  (target {args.drift_interval + args.slack:.0f} s) "
              f"{'met' if drift_ok else 'MISSED'}")
        print(f"  commit to {edited} applied after ......... {commit_s:6.1f} s  (target {args.interval + args.slack:.0f} s) "
              f"{'met' if commit_ok else 'MISSED'}")
        print(f"  {slow} still applying meanwhile ............ {'yes' if still_slow else 'NO (the measurement proves nothing)'}")
        sys.exit(0 if drift_ok and commit_ok and still_slow else 1)
    finally:
        stop(daemon)
        emulator.stop()


if __name__ == "__main__":
    main()
