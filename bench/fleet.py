#!/usr/bin/env python3
"""A fleet on one daemon: `reclaw run` on N deployments (default 1000) in one region of a private
emulator in realistic mode, as an operator would run it for a fleet: `policy.drift: alert`, change
events on (`--events-queue`, after `reclaw events setup`), drift poll 1h. Prints, for N and for a
small N to compare with (default 50):

  * the time to the first full pass: from the daemon's start (one commit adds every deployment)
    until every deployment is Ready with the commit applied, and the calls that took;
  * AWS calls per no-op reconcile pass over all N, by action, from the emulator's request log: the
    daemon stopped, then `reclaw run --once` on the same state directory and flags (the same
    lanes the service runs: the source pass, then a drift check of every deployment);
  * for N only: resident memory at steady state, sampled as bench/soak.py does (each sample the
    mean of 30 one-second readings), and its growth per hour after --warmup-minutes of steady
    state, over the following --minutes; and the calls the idle daemon made meanwhile (its
    event queue's long polls);
  * the targets beside each figure: <= 160 MiB, calls per pass independent of N, growth <= 2 MiB/h.

Realistic mode's delays are AWS's times --scale (the emulator's default, 0.1, unless told); rate
limits are AWS's and not scaled, so a rollout of 1000 is paced by them (IAM writes at 10 a second,
Parameter Store writes at 5, EC2 writes at 5 per action). Both are printed with the figures.

usage: bench/fleet.py [--reclaw .build/release/reclaw] [--deployments 1000] [--compare 50]
                      [--concurrency 16] [--scale 0.1] [--warmup-minutes 10] [--minutes 20]
                      [--timeout 5400]
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

from common import Emulator, ROOT, Repository, admin, memory_mib, ready, spec, status, stop
from soak import slope

REGION = "eu-west-3"
QUEUE = "reclaw-events"
EXTRA = "  network: {vpcEndpoints: []}\n  policy: {drift: alert}\n"
TARGET_MIB, TARGET_GROWTH = 160.0, 2.0


def action(r):
    return r["operation"] if r["service"] == "ec2" else f"{r['service']}:{r['operation']}"


def calls(emulator):
    return collections.Counter(action(r) for r in admin(emulator.url, "requests")["requests"])


def applied(row, revision):
    return ready(row) and row.get("lastAppliedRevision") == revision


class Fleet:
    """One emulator, one repository of N specs, one state directory: the daemon's whole world."""

    def __init__(self, args, n):
        self.args, self.n = args, n
        self.emulator = Emulator("--realistic", *(["--scale", str(args.scale)] if args.scale is not None else []))
        self.state = tempfile.mkdtemp(prefix=f"reclaw-bench-fleet{n}-")
        self.env = self.emulator.env(f"{self.state}/state")
        self.names = [f"fleet{n}-{i}" for i in range(n)]
        self.repo = Repository({"README": "fleet\n"})
        self.daemon = None

    def flags(self):
        return ["--source", self.repo.url, "--deployment-concurrency", str(self.args.concurrency),
                "--events-queue", QUEUE, "--drift-interval", "1h"]

    def setup(self):
        r = subprocess.run([self.args.reclaw, "events", "setup", "--queue", QUEUE, "--region", REGION],
                           env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"reclaw events setup failed:\n{r.stderr[-3000:]}")
        # moto builds a region's backends lazily: a read-only plan first, not counted.
        warm = tempfile.mkdtemp(prefix="reclaw-bench-warm-")
        with open(f"{warm}/w.yaml", "w") as f:
            f.write(spec("warmup", REGION, extra=EXTRA))
        subprocess.run([self.args.reclaw, "plan", warm], env=self.emulator.env(f"{warm}/state"), capture_output=True)

    def rollout(self):
        """Starts the daemon on one commit adding every deployment; returns (seconds, done, calls, peak MiB)."""
        revision = self.repo.commit({f"{name}.yaml": spec(name, REGION, extra=EXTRA) for name in self.names})
        admin(self.emulator.url, "requests", method="DELETE")
        self.log = open(f"{self.state}/daemon.log", "w")
        started = time.monotonic()
        self.daemon = subprocess.Popen([self.args.reclaw, "run", *self.flags()], env=self.env,
                                       stdout=self.log, stderr=subprocess.STDOUT)
        done, last_report, peak, step = False, started, 0.0, 1 if self.n <= 100 else 5
        while time.monotonic() - started < self.args.timeout:
            self.alive()
            peak = max(peak, memory_mib(self.daemon.pid)[0])
            rows = status(self.args.reclaw, self.env)
            count = sum(1 for name in self.names if applied(rows.get(name, {}), revision))
            if count == self.n:
                done = True
                break
            if time.monotonic() - last_report >= 60:
                last_report = time.monotonic()
                print(f"    ({self.n}: {count} Ready after {last_report - started:.0f} s, "
                      f"{memory_mib(self.daemon.pid)[0]:.0f} MiB)", file=sys.stderr, flush=True)
            time.sleep(step)
        return time.monotonic() - started, done, calls(self.emulator), peak

    def alive(self):
        if self.daemon.poll() is not None:
            sys.exit(f"the daemon exited ({self.daemon.returncode}); see {self.state}/daemon.log")

    def steady(self, warmup, minutes):
        """Samples the idle daemon's memory; returns (samples after warm-up, all samples, calls meanwhile, seconds)."""
        print(f"  steady state of {self.n}: {warmup:g} minutes of warm-up, then {minutes:g} minutes measured", flush=True)
        print(f"  {'minute':>6}  {'RSS MiB':>8}  {'min-max':>11}  {'anon':>6}  {'file':>6}", flush=True)
        samples, window, begin, counting = [], [], time.monotonic(), None
        while time.monotonic() - begin < (warmup + minutes) * 60:
            self.alive()
            if counting is None and time.monotonic() - begin >= warmup * 60:
                admin(self.emulator.url, "requests", method="DELETE")
                counting = time.monotonic()
            window.append(memory_mib(self.daemon.pid))
            if len(window) >= 30:
                now = time.monotonic() - begin
                rss = [r for r, _, _ in window]
                mean = [sum(w[i] for w in window) / len(window) for i in range(3)]
                samples.append((now, *mean))
                if len(samples) % 2 == 0:
                    print(f"  {now / 60:>6.1f}  {mean[0]:>8.1f}  {min(rss):>5.1f}-{max(rss):<5.1f}  {mean[1]:>6.1f}  {mean[2]:>6.1f}",
                          flush=True)
                window = []
            time.sleep(1)
        return [s for s in samples if s[0] >= warmup * 60], samples, calls(self.emulator), time.monotonic() - (counting or begin)

    def once(self):
        """The daemon stopped, one whole pass by `reclaw run --once`: (exit status, calls, seconds)."""
        stop(self.daemon)
        self.daemon = None
        admin(self.emulator.url, "requests", method="DELETE")
        started = time.monotonic()
        r = subprocess.run([self.args.reclaw, "run", "--once", *self.flags()], env=self.env, capture_output=True, text=True)
        with open(f"{self.state}/once.log", "w") as f:
            f.write(r.stdout + r.stderr)
        return r.returncode, calls(self.emulator), time.monotonic() - started

    def close(self):
        stop(self.daemon)
        self.emulator.stop()


def measure(args, n, steady):
    fleet = Fleet(args, n)
    try:
        fleet.setup()
        seconds, done, rollout_calls, peak = fleet.rollout()
        total = sum(rollout_calls.values())
        print(f"  N={n}: first full pass in {seconds:.0f} s{'' if done else ' (NOT ALL READY; see ' + fleet.state + ')'}, "
              f"{total} calls ({total / n:.1f} per deployment), peak {peak:.0f} MiB during it", flush=True)
        row = {"n": n, "seconds": seconds, "done": done, "rollout": rollout_calls, "peak": peak, "state": fleet.state}
        if steady and done:
            row["warm"], row["samples"], row["idle"], row["idle_seconds"] = fleet.steady(args.warmup_minutes, args.minutes)
        code, pass_calls, pass_seconds = fleet.once()
        print(f"  N={n}: a no-op pass (run --once) made {sum(pass_calls.values())} calls in {pass_seconds:.0f} s, exit {code}",
              flush=True)
        row.update(once=code, calls=pass_calls, pass_seconds=pass_seconds)
        return row
    finally:
        fleet.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/release/reclaw"))
    p.add_argument("--deployments", type=int, default=1000)
    p.add_argument("--compare", type=int, default=50, help="the small N to compare calls per pass with (0: none)")
    p.add_argument("--concurrency", type=int, default=16, help="--deployment-concurrency")
    p.add_argument("--scale", type=float, help="realistic mode's scale of AWS's delays (the emulator's default: 0.1)")
    p.add_argument("--warmup-minutes", type=float, default=10)
    p.add_argument("--minutes", type=float, default=20, help="steady state measured after the warm-up")
    p.add_argument("--timeout", type=float, default=5400, help="seconds the first full pass may take")
    args = p.parse_args()
    scale = args.scale if args.scale is not None else 0.1
    print(f"reclaw run on {args.deployments} deployments in {REGION} against the local emulator in realistic mode "
          f"(AWS's delays x {scale:g}, AWS's rate limits), drift alert, events on, drift poll 1h, "
          f"--deployment-concurrency {args.concurrency}\n", flush=True)
    rows = []
    if args.compare:
        rows.append(measure(args, args.compare, steady=False))
    rows.append(measure(args, args.deployments, steady=True))
    big = rows[-1]

    print(f"\n  {'N':>5}  {'first pass s':>12}  {'calls/dep':>9}  {'no-op pass calls':>16}  {'pass s':>6}")
    for r in rows:
        print(f"  {r['n']:>5}  {r['seconds']:>12.0f}  {sum(r['rollout'].values()) / r['n']:>9.1f}  "
              f"{sum(r['calls'].values()):>16}  {r['pass_seconds']:>6.0f}{'' if r['done'] else '  not all Ready'}")
    print("\n  no-op pass, calls by action:")
    print(f"  {'action':34s}" + "".join(f"{'N=' + str(r['n']):>9}" for r in rows))
    actions = sorted(set().union(*(r["calls"] for r in rows)), key=lambda a: (-big["calls"][a], a))
    for a in actions:
        print(f"  {a:34s}" + "".join(f"{r['calls'][a]:>9}" for r in rows))
    flat = len({sum(r["calls"].values()) for r in rows}) == 1
    ok = all(r["done"] and r["once"] == 0 for r in rows)
    print(f"\n  calls per pass independent of N (target) ... {'met' if flat else 'MISSED'} "
          f"({', '.join(str(sum(r['calls'].values())) for r in rows)})")
    grown = [a for a in actions if len({r["calls"][a] for r in rows}) > 1]
    if grown:
        print(f"  actions whose count grows with N: {', '.join(grown)}")
    if "warm" in big and big["warm"]:
        warm = big["warm"]
        growth = slope([(t, m) for t, m, _, _ in warm])
        steady_mib = sum(m for _, m, _, _ in warm) / len(warm)
        idle = big["idle"]
        print(f"  resident memory at steady state, N={big['n']}: {steady_mib:.1f} MiB (max sample {max(m for _, m, _, _ in warm):.1f}; "
              f"target <= {TARGET_MIB:g}) ... {'met' if steady_mib <= TARGET_MIB else 'MISSED'}")
        print(f"  growth over {args.minutes:g} minutes after {args.warmup_minutes:g} of warm-up: {growth:+.2f} MiB/hour "
              f"(anonymous {slope([(t, a) for t, _, a, _ in warm]):+.2f}; target <= {TARGET_GROWTH:g}) ... "
              f"{'met' if growth <= TARGET_GROWTH else 'MISSED'}")
        print(f"  calls of the idle daemon over the measured minutes: {sum(idle.values()) / big['idle_seconds'] * 60:.1f} a minute "
              f"({', '.join(f'{a} {c}' for a, c in idle.most_common(5))})")
        ok = ok and flat and steady_mib <= TARGET_MIB and growth <= TARGET_GROWTH
    else:
        ok = False
        print("  memory: not measured (the first full pass did not finish)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
