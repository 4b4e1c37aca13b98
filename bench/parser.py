#!/usr/bin/env python3
"""How long `reclaw validate` takes on hostile YAML, and on long but legal collections. The tests
check that each input is refused with the right error; how fast that is, this prints (a test that
bounds wall-clock time measures the machine, not reclaw). Target: each well under 2 s, and the
legal lists growing linearly with their length.

Inputs: an alias bomb (9^13 nodes if expanded), 10,000 levels of flow nesting, 1,000 levels of block
nesting, a file over 1 MiB, binary content, and lists of 30,000 / 60,000 / 90,000 / 150,000 items (the
last over the node limit).

usage: bench/parser.py [--reclaw .build/debug/reclaw] [--runs 3]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def inputs():
    bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 13):
        bomb += f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    yield "alias bomb", bomb.encode()
    yield "deep flow nesting", ("[" * 10_000 + "]" * 10_000).encode()
    yield "deep block nesting", "\n".join(" " * i + "k:" for i in range(1_000)).encode()
    yield "over one MiB", ("a: " + "x" * (1 << 20)).encode()
    yield "binary", bytes([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]) + bytes(4096)
    for n in (30_000, 60_000, 90_000, 150_000):
        yield f"list of {n:,}", ("a: [" + ",".join(["1"] * n) + "]").encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reclaw", default=os.path.join(ROOT, ".build/debug/reclaw"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="reclaw-bench-parser-")
    print(f"{'input':<22} {'exit':>4} {'best s':>8} {'worst s':>8}")
    for name, data in inputs():
        path = os.path.join(work, name.replace(" ", "-").replace(",", "") + ".yaml")
        with open(path, "wb") as f:
            f.write(data)
        times, code = [], None
        for _ in range(args.runs):
            started = time.monotonic()
            code = subprocess.run([args.reclaw, "validate", path], capture_output=True).returncode
            times.append(time.monotonic() - started)
        print(f"{name:<22} {code:>4} {min(times):>8.3f} {max(times):>8.3f}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak RSS of one validate: {peak / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
