#!/usr/bin/env python3
"""The local AWS emulator for reclaw's tests and demo: moto in server mode with what reclaw needs added.

  emulator.py start [--state-dir DIR] [--port N] [--auth] [--watch-pid PID] [REALISM]  start in the background, print the URL
  emulator.py stop [--state-dir DIR]                                                     stop it
  emulator.py serve [--port N] [--url-file F] [--auth] [--watch-pid PID] [REALISM]      run in the foreground

REALISM: --realistic [--scale S] [--realism JSON|@FILE]. Realistic mode reproduces AWS's documented
delays and refusals, scaled by S (default 0.1); JSON is what POST /_emulator/realism takes, e.g.
'{"behaviours": {"endpointPending": {"seconds": 2}, "rateLimits": {"enabled": false}}}'. See realism.py.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_STATE = os.environ.get("RECLAW_EMULATOR_DIR", "/tmp/reclaw-emulator")


def serve(args):
    # A parent may have started us with signals blocked (a Swift test's dispatch thread blocks them
    # all, and a child inherits the mask): unblock SIGTERM, or `stop` waits 5 s and then kills.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    check_realism(args)
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if args.auth:
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    sys.path.insert(0, HERE)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    import patches
    from app import EmulatorApp

    patches.apply()
    from wsgi_server import make_server

    app = EmulatorApp(DomainDispatcherApplication(create_backend_app), realism_spec(args))
    server = make_server("127.0.0.1", args.port, app)
    url = f"http://127.0.0.1:{server.server_port}"
    if args.watch_pid:
        def watch():
            while True:
                try:
                    os.kill(args.watch_pid, 0)
                except OSError:
                    os._exit(0)
                time.sleep(1)
        threading.Thread(target=watch, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.url_file:
        tmp = args.url_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, args.url_file)
    print(url, flush=True)
    server.serve_forever()


def realism_spec(args) -> dict | None:
    """What the command line asks of realistic mode, in the admin API's shape."""
    spec = {}
    if args.realism:
        text = open(args.realism[1:]).read() if args.realism.startswith("@") else args.realism
        spec = json.loads(text)
    if args.realistic:
        spec["enabled"] = True
    if args.scale is not None:
        spec["scale"] = args.scale
    return spec or None


def check_realism(args):
    sys.path.insert(0, HERE)
    from realism import Realism

    try:
        Realism().configure(realism_spec(args) or {})
    except (ValueError, OSError) as e:
        sys.exit(f"emulator: bad realism settings: {e}")


def alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_emulator/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start(args):
    check_realism(args)
    os.makedirs(args.state_dir, exist_ok=True)
    url_file = os.path.join(args.state_dir, "emulator.url")
    pid_file = os.path.join(args.state_dir, "emulator.pid")
    if os.path.exists(url_file) and alive(open(url_file).read().strip()):
        print(open(url_file).read().strip())
        return
    if os.path.exists(url_file):
        os.remove(url_file)
    cmd = [sys.executable, os.path.abspath(__file__), "serve", "--port", str(args.port), "--url-file", url_file]
    if args.auth:
        cmd.append("--auth")
    if args.realistic:
        cmd.append("--realistic")
    if args.scale is not None:
        cmd += ["--scale", str(args.scale)]
    if args.realism:
        cmd += ["--realism", args.realism if not args.realism.startswith("@") else "@" + os.path.abspath(args.realism[1:])]
    if args.watch_pid:
        cmd += ["--watch-pid", str(args.watch_pid)]
    log = open(os.path.join(args.state_dir, "emulator.log"), "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pid_file, "w") as f:
        f.write(f"{proc.pid}\n")
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(url_file):
            url = open(url_file).read().strip()
            if alive(url):
                print(url)
                return
        if proc.poll() is not None:
            sys.exit(f"emulator exited with {proc.returncode}; see {args.state_dir}/emulator.log")
        time.sleep(0.1)
    sys.exit(f"emulator did not start within 60s; see {args.state_dir}/emulator.log")


def running(pid: int) -> bool:
    """Whether the process still runs (an exited one waiting to be reaped does not)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def stop(args):
    pid_file = os.path.join(args.state_dir, "emulator.pid")
    if not os.path.exists(pid_file):
        return
    pid = int(open(pid_file).read().strip())
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not running(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    for name in ("emulator.pid", "emulator.url"):
        path = os.path.join(args.state_dir, name)
        if os.path.exists(path):
            os.remove(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, default=0)
        p.add_argument("--auth", action="store_true", help="check SigV4 signatures against IAM users from the start")
        p.add_argument("--watch-pid", type=int, default=0, help="exit when this process is gone")
        p.add_argument("--realistic", action="store_true", help="start in realistic mode (AWS's delays, scaled)")
        p.add_argument("--scale", type=float, help="factor applied to AWS's delays in realistic mode (default 0.1)")
        p.add_argument("--realism", help="realistic-mode settings as JSON, or @FILE holding it")
        if name == "start":
            p.add_argument("--state-dir", default=DEFAULT_STATE)
        else:
            p.add_argument("--url-file")
    p = sub.add_parser("stop")
    p.add_argument("--state-dir", default=DEFAULT_STATE)
    args = parser.parse_args()
    {"start": start, "stop": stop, "serve": serve}[args.command](args)


if __name__ == "__main__":
    main()
