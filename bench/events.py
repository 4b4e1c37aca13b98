#!/usr/bin/env python3
"""Drift detection latency with and without CloudTrail's events. The daemon runs on N deployments
of a private emulator whose CloudTrail events reach EventBridge after DELAY seconds (AWS: about a
minute). Another IAM user opens a port on one deployment at a time; each trial measures how long
after the change the audit log had the DriftCorrected event naming that user:

  * with events (`--events-queue`, drift interval left at its default, an hour): the target is the
    delivery delay plus SLACK seconds, every time;
  * without events (`--drift-interval POLL`): the drift poll finds it, on average half the interval
    later, at worst the whole interval (and CloudTrail's lookup names the author).

It also prints what the metrics counted: events received, matched, ignored (by reason) and lag.

usage: bench/events.py [--reclaw .build/debug/reclaw] [--deployments 3] [--trials 3] [--delay 6]
                       [--poll 60] [--slack 10]
"""

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROOT, Emulator, Repository, admin, ready, spec, status, wait

REGION = "eu-west-3"
QUEUE = "reclaw-events"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, reclaw, repo, env, state, label, extra):
        self.port = free_port()
        self.log_path = f"{state}/{label}.log"
        self.process = subprocess.Popen([reclaw, "run", "--source", repo.url, "--interval", "5s",
                                         "--metrics-address", f"127.0.0.1:{self.port}", *extra],
                                        env=env, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)

    def metrics(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            if line.startswith("reclaw_event") and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def corrections(audit, name):
    events = []
    try:
        with open(audit) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("eventType") == "DriftCorrected" and e.get("deployment") == name:
                    events.append(e)
    except OSError:
        pass
    return events


def trials(emulator, names, audit, count, timeout, label, jitter=0.0):
    """Opens a port on each deployment in turn (after a random pause of up to `jitter` seconds, so
    changes do not line up with the drift poll); returns (seconds, author named, actor type) per trial."""
    results = []
    for i in range(count):
        name = names[i % len(names)]
        user = f"bench-{label}-{i}"
        key = emulator.intruder(user)
        time.sleep(random.uniform(0, jitter))
        before = len(corrections(audit, name))
        emulator.open_port(name, REGION, 8000 + i, key)
        opened = time.monotonic()
        if not wait(lambda: len(corrections(audit, name)) > before, timeout, step=0.1):
            results.append((None, False, None))
            continue
        took = time.monotonic() - opened
        event = corrections(audit, name)[-1]
        authors = event.get("attribution") or []
        who = next((a for a in authors if (a.get("userIdentityArn") or "").endswith(f":user/{user}")), None)
        named = ", ".join(f"{(a.get('userIdentityArn') or '?').rpartition('/')[2]} ({a.get('actorType')})" for a in authors)
        print(f"    {label} trial {i + 1}: {name} corrected after {took:5.1f} s, attributed to {named or event.get('attributionStatus')}",
              flush=True)
        results.append((took, who is not None, who and who.get("actorType")))
        # Let the correction's own events pass before the next change.
        time.sleep(2)
    return results


def summary(results):
    times = [t for t, _, _ in results if t is not None]
    if not times:
        return "no detection"
    return f"min {min(times):5.1f} s  median {statistics.median(times):5.1f} s  max {max(times):5.1f} s"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/debug/reclaw"))
    p.add_argument("--deployments", type=int, default=3)
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--delay", type=float, default=6, help="EventBridge delivery delay, seconds")
    p.add_argument("--poll", type=int, default=60, help="drift interval without events, seconds")
    p.add_argument("--slack", type=float, default=10)
    args = p.parse_args()
    names = [f"evb-{i}" for i in range(args.deployments)]
    emulator = Emulator()
    daemon = None
    ok = True
    try:
        state = tempfile.mkdtemp(prefix="reclaw-bench-events-")
        env = emulator.env(f"{state}/state")
        audit = f"{state}/state/audit.log"
        repo = Repository({f"{n}.yaml": spec(n, REGION) for n in names})
        r = subprocess.run([args.reclaw, "apply", "--auto-approve", repo.url], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"the first apply failed:\n{r.stderr[-3000:]}")
        r = subprocess.run([args.reclaw, "events", "setup", "--queue", QUEUE, "--region", REGION], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"reclaw events setup failed:\n{r.stderr[-3000:]}")
        admin(emulator.url, "events", {"enabled": True, "deliveryDelaySeconds": args.delay})
        print(f"reclaw daemon on {args.deployments} deployments in {REGION}; CloudTrail's events reach EventBridge after {args.delay:g} s\n")

        daemon = Daemon(args.reclaw, repo, env, state, "with-events", ["--events-queue", QUEUE])
        if not wait(lambda: all(ready(status(args.reclaw, env).get(n, {})) for n in names), 120) or \
                not wait(lambda: open(daemon.log_path).read().count("reading CloudTrail's events") >= 2, 60):
            sys.exit(f"the daemon did not start reading the queue; see {daemon.log_path}")
        time.sleep(args.delay + 2)  # the start's own events pass
        with_events = trials(emulator, names, audit, args.trials, args.delay + args.slack * 6, "events")
        counted = daemon.metrics()
        daemon.stop()
        daemon = None

        daemon = Daemon(args.reclaw, repo, env, state, "polling", ["--drift-interval", f"{args.poll}s"])
        if not wait(lambda: "reclaw " in open(daemon.log_path).read() and all(ready(status(args.reclaw, env).get(n, {})) for n in names), 120):
            sys.exit(f"the polling daemon did not start; see {daemon.log_path}")
        polling = trials(emulator, names, audit, args.trials, args.poll * 3, "poll", jitter=args.poll)
        daemon.stop()
        daemon = None

        target = args.delay + args.slack
        met = all(t is not None and t <= target for t, _, _ in with_events)
        named = all(n for _, n, _ in with_events + polling)
        humans = all(a == "human" for _, _, a in with_events)
        print(f"  with events, drift interval 1h ..... {summary(with_events)}  (target {target:.0f} s) {'met' if met else 'MISSED'}")
        print(f"  polling only, drift interval {args.poll}s .. {summary(polling)}  (expected about {args.poll / 2:.0f} s on average)")
        print(f"  author named in every DriftCorrected {'yes' if named else 'NO'}; actor type from the event: "
              f"{', '.join(sorted({str(a) for _, _, a in with_events}))}")
        print("\n  metrics with events:")
        for key in sorted(counted):
            if key.startswith("reclaw_event_lag_seconds"):
                continue
            print(f"    {key} {counted[key]:g}")
        lag_n = counted.get("reclaw_event_lag_seconds_count", 0)
        if lag_n:
            print(f"    mean event lag {counted.get('reclaw_event_lag_seconds_sum', 0) / lag_n:.1f} s over {lag_n:g} events")
        ok = met and named and humans
    finally:
        if daemon:
            daemon.stop()
        emulator.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
