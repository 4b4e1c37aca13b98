#!/usr/bin/env python3
"""Memory stays flat: the daemon on N deployments with short intervals, its resident memory sampled
for a while. Prints the samples and the growth after warm-up, with the target:

  * after warm-up, resident memory grows by less than --max-growth MiB an hour (flat, within noise).

Resident memory is read every second; each sample is the mean of the last 30 readings, since the
daemon's memory rises during a round of work and falls when it hands free memory back (once a
minute). Each sample also shows the range of those readings and their split into anonymous memory
(what the daemon allocated) and file-backed memory (its executable and libraries paged in).

Each drift interval a change is made by hand to one deployment (alternately corrected and
attributed), so alert, attribution and request-id memory are exercised, not only the idle loop.
The attributes read one call per resource (a VPC's DNS settings, a profile's tags) are read again
every --slow-read-interval (the daemon's default is 15m; here 2m, so warm-up and the measured
window each see several of those rounds, not one step in the middle).

usage: bench/soak.py [--reclaw .build/debug/reclaw] [--deployments 100] [--minutes 30]
                     [--warmup-minutes 5] [--interval 2] [--slow-read-interval 2m] [--max-growth 5]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from common import Emulator, ROOT, Repository, memory_mib, spec, stop


def slope(samples):
    """Least-squares growth in MiB per hour."""
    n = len(samples)
    if n < 2:
        return 0.0
    mx = sum(t for t, _ in samples) / n
    my = sum(m for _, m in samples) / n
    var = sum((t - mx) ** 2 for t, _ in samples)
    return 0.0 if var == 0 else sum((t - mx) * (m - my) for t, m in samples) / var * 3600


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/debug/reclaw"))
    p.add_argument("--deployments", type=int, default=100)
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--warmup-minutes", type=float, default=5)
    p.add_argument("--interval", type=int, default=2)
    p.add_argument("--slow-read-interval", default="2m")
    p.add_argument("--max-growth", type=float, default=5.0, help="MiB per hour")
    args = p.parse_args()
    region = "eu-west-3"
    names = [f"soak-{i}" for i in range(args.deployments)]
    emulator = Emulator()
    daemon = None
    try:
        state = tempfile.mkdtemp(prefix="reclaw-bench-soak-")
        env = emulator.env(f"{state}/state")
        repo = Repository({f"{n}.yaml": spec(n, region, extra="  network: {vpcEndpoints: []}\n") for n in names})
        started = time.monotonic()
        r = subprocess.run([args.reclaw, "apply", "--auto-approve", repo.url], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"the first apply failed:\n{r.stderr[-3000:]}")
        print(f"applied {args.deployments} deployments in {time.monotonic() - started:.0f} s")
        log = open(f"{state}/daemon.log", "w")
        daemon = subprocess.Popen([args.reclaw, "run", "--source", repo.url, "--interval", f"{args.interval}s",
                                   "--drift-interval", f"{args.interval}s",
                                   "--slow-read-interval", args.slow_read_interval], env=env, stdout=log, stderr=subprocess.STDOUT)
        key = emulator.intruder("soak-intruder")
        print(f"daemon on {args.deployments} deployments, fetch and drift every {args.interval}s, slow reads every "
              f"{args.slow_read_interval}, for {args.minutes:g} minutes")
        print(f"  {'minute':>6}  {'RSS MiB':>8}  {'min-max':>11}  {'anon':>6}  {'file':>6}")
        samples, window, begin, port, last_change = [], [], time.monotonic(), 1000, 0.0
        while time.monotonic() - begin < args.minutes * 60:
            if daemon.poll() is not None:
                sys.exit(f"the daemon exited ({daemon.returncode}); see {state}/daemon.log")
            now = time.monotonic() - begin
            if now - last_change >= args.interval * 5:
                port += 1
                emulator.open_port(names[port % len(names)], region, port, key)
                last_change = now
            window.append(memory_mib(daemon.pid))
            if len(window) >= 30:
                rss = [r for r, _, _ in window]
                mean = lambda i: sum(w[i] for w in window) / len(window)
                samples.append((now, mean(0), mean(1)))
                print(f"  {now / 60:>6.1f}  {mean(0):>8.1f}  {min(rss):>5.1f}-{max(rss):<5.1f}  {mean(1):>6.1f}  {mean(2):>6.1f}", flush=True)
                window = []
            time.sleep(1)
        warm = [s for s in samples if s[0] >= args.warmup_minutes * 60]
        growth = slope([(t, m) for t, m, _ in warm])
        ok = growth < args.max_growth
        print(f"\n  growth after {args.warmup_minutes:g} minutes of warm-up: {growth:+.2f} MiB/hour "
              f"(target < {args.max_growth:g}) ... {'met' if ok else 'MISSED'}")
        print(f"  of which anonymous memory: {slope([(t, a) for t, _, a in warm]):+.2f} MiB/hour")
        print(f"  resident memory: {warm[0][1] if warm else 0:.1f} MiB after warm-up, {samples[-1][1] if samples else 0:.1f} MiB at the end")
        sys.exit(0 if ok else 1)
    finally:
        stop(daemon)
        emulator.stop()


if __name__ == "__main__":
    main()
