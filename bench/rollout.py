#!/usr/bin/env python3
"""A fleet rollout: the daemon rolls out N new deployments at once (one commit adds them all) against
a fresh emulator, and the emulator's call log says what it cost. For each N prints:

  * AWS calls per deployment, from the daemon's start until every deployment is Ready, and the
    same by action for the actions that cost most;
  * the ratio of calls per deployment to the single deployment's (target: at most 1.1x);
  * deployments that reported drift during the rollout, by a DriftDetected audit event or a drift
    line in their status (target: none; every resource exists and carries reclaw's tags);
  * the rollout time (start to every deployment Ready).

The daemon runs as an operator would run it for a fleet: `--deployment-concurrency 16`, specs with
`policy.drift: alert` and no VPC endpoints, the default fetch, drift and slow-read intervals. The
calls of drift checks that fall within the rollout are counted: they are part of its cost. Each
size gets its own emulator (a cold account); the emulator's lazily built backends are warmed by a
read-only plan first, whose calls are not counted.

usage: bench/rollout.py [--reclaw .build/release/reclaw] [--sizes 1,50,200] [--concurrency 16]
                        [--timeout 3600] [--top 8]
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from common import Emulator, ROOT, Repository, admin, ready, spec, status, stop

REGION = "eu-west-2"
EXTRA = "  network: {vpcEndpoints: []}\n  policy: {drift: alert}\n"
# Always shown (the culprits), beside the most frequent others.
WATCHED = ["DescribeVpcAttribute", "ssm:GetParameters", "tagging:GetResources"]


def action(r):
    return r["operation"] if r["service"] == "ec2" else f"{r['service']}:{r['operation']}"


def drift_events(path):
    names = set()
    try:
        with open(path) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("eventType") == "DriftDetected":
                    names.add(e.get("deployment"))
    except FileNotFoundError:
        pass
    return names


def rollout(binary, n, concurrency, timeout):
    """Rolls out n deployments on a fresh emulator; returns the figures of one row."""
    emulator = Emulator()
    daemon = None
    try:
        state = tempfile.mkdtemp(prefix=f"reclaw-bench-rollout{n}-")
        env = emulator.env(f"{state}/state")
        names = [f"roll{n}-{i}" for i in range(n)]
        repo = Repository({"README": "fleet\n"})
        warm = tempfile.mkdtemp(prefix="reclaw-bench-warm-")
        with open(f"{warm}/w.yaml", "w") as f:
            f.write(spec("warmup", REGION, extra=EXTRA))
        subprocess.run([binary, "plan", warm], env=emulator.env(f"{warm}/state"), capture_output=True)
        repo.commit({f"{name}.yaml": spec(name, REGION, extra=EXTRA) for name in names})
        admin(emulator.url, "requests", method="DELETE")
        log = open(f"{state}/daemon.log", "w")
        started = time.monotonic()
        daemon = subprocess.Popen([binary, "run", "--source", repo.url, "--deployment-concurrency", str(concurrency)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        drifted, done, last_report = set(), False, started
        while time.monotonic() - started < timeout:
            if daemon.poll() is not None:
                sys.exit(f"the daemon exited ({daemon.returncode}); see {state}/daemon.log")
            rows = status(binary, env)
            drifted |= {name for name, row in rows.items() if row.get("drift")}
            count = sum(1 for name in names if ready(rows.get(name, {})))
            if count == n:
                done = True
                break
            if time.monotonic() - last_report >= 60:
                last_report = time.monotonic()
                print(f"    ({n}: {count} Ready after {last_report - started:.0f} s)", file=sys.stderr, flush=True)
            time.sleep(1)
        elapsed = time.monotonic() - started
        calls = collections.Counter(action(r) for r in admin(emulator.url, "requests")["requests"])
        drifted |= drift_events(f"{state}/state/audit.log")
        return {"n": n, "done": done, "seconds": elapsed, "calls": calls, "drifted": drifted, "state": state}
    finally:
        stop(daemon)
        emulator.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/release/reclaw"))
    p.add_argument("--sizes", default="1,50,200")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--timeout", type=float, default=3600, help="seconds each rollout may take")
    p.add_argument("--top", type=int, default=8, help="actions shown besides the watched ones")
    args = p.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"reclaw rollouts of {', '.join(map(str, sizes))} new deployments at once against the local emulator "
          f"(--deployment-concurrency {args.concurrency}, drift alert, no endpoints)\n", flush=True)
    rows = []
    for n in sizes:
        rows.append(rollout(args.reclaw, n, args.concurrency, args.timeout))
        r = rows[-1]
        print(f"  N={n}: {sum(r['calls'].values()) / n:.1f} calls per deployment, {r['seconds']:.0f} s"
              f"{'' if r['done'] else ' (NOT ALL READY; see ' + r['state'] + ')'}", flush=True)
    total = collections.Counter()
    for r in rows:
        total.update({k: v / r["n"] for k, v in r["calls"].items()})
    shown = WATCHED + [a for a, _ in total.most_common() if a not in WATCHED][:args.top]
    base = next((sum(r["calls"].values()) / r["n"] for r in rows if r["n"] == 1), None)

    print(f"\n  {'N':>5}  {'rollout s':>9}  {'calls/dep':>9}  {'x N=1':>6}  {'drifted':>7}")
    ok = True
    for r in rows:
        per = sum(r["calls"].values()) / r["n"]
        ratio = per / base if base else float("nan")
        ok = ok and r["done"] and not r["drifted"] and (base is None or ratio <= 1.1)
        print(f"  {r['n']:>5}  {r['seconds']:>9.0f}  {per:>9.1f}  {ratio:>6.2f}  {len(r['drifted']):>7}"
              f"{'' if r['done'] else '  not all Ready'}")
    print("\n  calls per deployment by action:")
    print(f"  {'action':34s}" + "".join(f"{'N=' + str(r['n']):>9}" for r in rows))
    for a in shown:
        print(f"  {a:34s}" + "".join(f"{r['calls'][a] / r['n']:>9.2f}" for r in rows))
    others = [sum(v for k, v in r["calls"].items() if k not in shown) / r["n"] for r in rows]
    print(f"  {'(all other actions)':34s}" + "".join(f"{o:>9.2f}" for o in others))
    print(f"\n  target: calls per deployment at most 1.1x N=1's ... {'met' if ok else 'MISSED'}")
    for r in rows:
        if r["drifted"]:
            print(f"  N={r['n']}: drift reported by {', '.join(sorted(r['drifted'])[:10])}{' …' if len(r['drifted']) > 10 else ''}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
