#!/usr/bin/env python3
"""Backpressure on the operations endpoint: clients that pipeline requests and never read the
answers hold a bounded amount of the daemon's memory. The daemon runs one deployment on a private
emulator with `--metrics-address` on loopback; CONNECTIONS clients each pipeline REQUESTS
`GET /metrics` and read nothing. The daemon's resident memory is sampled before (the baseline),
every 0.2 s for --seconds from the first request, and once more at the end; the target:

  * the peak stays within --max-growth MiB (default 32) of the baseline.

It also prints how much of each pipeline the kernel took before the daemon stopped reading, and the
endpoint's backpressure metrics. Loopback only; the attack lasts --seconds (keep it below the
endpoint's 60 s idle limit, which closes connections whose answers stay unread).

usage: bench/endpoint_backpressure.py [--reclaw .build/debug/reclaw] [--connections 64]
                                      [--requests 10000] [--seconds 40] [--max-growth 32]
"""

import argparse
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROOT, Emulator, Repository, memory_mib, spec, stop, wait

REQUEST = b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except OSError:
        return None, ""


def samples(port, names):
    _, text = get(port, "/metrics")
    out = {}
    for line in text.splitlines():
        for name in names:
            if line.startswith(name + " "):
                out[name] = float(line.split()[-1])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reclaw", default=os.path.join(ROOT, ".build/debug/reclaw"))
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--seconds", type=float, default=40, help="how long the attack lasts")
    p.add_argument("--max-growth", type=float, default=32.0, help="MiB")
    args = p.parse_args()
    emulator = Emulator()
    daemon = None
    clients = []
    try:
        state = tempfile.mkdtemp(prefix="reclaw-bench-endpoint-")
        env = emulator.env(f"{state}/state")
        repo = Repository({"bp.yaml": spec("bp", "eu-west-3", extra="  network: {vpcEndpoints: []}\n")})
        port = free_port()
        log = open(f"{state}/daemon.log", "w")
        daemon = subprocess.Popen([args.reclaw, "run", "--source", repo.url, "--interval", "5s", "--metrics-address", f"127.0.0.1:{port}"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        if not wait(lambda: get(port, "/healthz")[0] == 200, 300):
            sys.exit(f"the daemon did not become healthy; see {state}/daemon.log")
        time.sleep(5)  # let the first reconcile settle
        baseline_readings = []
        for _ in range(20):
            baseline_readings.append(memory_mib(daemon.pid)[0])
            time.sleep(0.25)
        baseline = sum(baseline_readings) / len(baseline_readings)
        print(f"daemon pid {daemon.pid} on 127.0.0.1:{port}; baseline RSS {baseline:.1f} MiB "
              f"({min(baseline_readings):.1f}-{max(baseline_readings):.1f})")

        payload = REQUEST * args.requests
        selector = selectors.DefaultSelector()
        for i in range(args.connections):
            s = socket.create_connection(("127.0.0.1", port))
            s.setblocking(False)
            clients.append(s)
            selector.register(s, selectors.EVENT_WRITE, [i, 0])
        print(f"{args.connections} connections, each pipelining {args.requests} GET /metrics "
              f"({len(payload)} bytes) and reading nothing")

        peak = baseline
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            for key, _ in selector.select(timeout=0.2):
                state_ = key.data
                try:
                    n = key.fileobj.send(payload[state_[1]:state_[1] + 65536])
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    selector.unregister(key.fileobj)
                    continue
                state_[1] += n
                if state_[1] >= len(payload):
                    selector.unregister(key.fileobj)
            peak = max(peak, memory_mib(daemon.pid)[0])
        sent = [key.data[1] for key in selector.get_map().values()]
        done = args.connections - len(sent)
        other = get(port, "/healthz")[0]
        figures = samples(port, ["reclaw_http_reads_paused_total", "reclaw_http_unanswered_requests"])
        end = memory_mib(daemon.pid)[0]
        peak = max(peak, end)
        delta = peak - baseline
        stalled = f"; the others stalled after {min(sent) // len(REQUEST)}-{max(sent) // len(REQUEST)} requests" if sent else ""
        print(f"pipelines the kernel took whole: {done} of {args.connections}{stalled}")
        print(f"another client's /healthz after {args.seconds:g} s of attack: {other or 'no answer within 10 s'}")
        print(f"reads paused: {figures.get('reclaw_http_reads_paused_total', 0):.0f}; "
              f"unanswered requests held: {figures.get('reclaw_http_unanswered_requests', 0):.0f}")
        print(f"RSS baseline {baseline:.1f} MiB, peak {peak:.1f} MiB, delta {delta:+.1f} MiB, "
              f"end {end:.1f} MiB")
        met = delta <= args.max_growth
        print(f"target +{args.max_growth:g} MiB: {'met' if met else 'MISSED'}")
        return 0 if met else 1
    finally:
        for s in clients:
            s.close()
        stop(daemon)
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
