#!/usr/bin/env python3
"""A TCP server that never lets a client finish, for reclaw's fetch-deadline tests.

  silent   accept every connection and never send a byte
  trickle  accept, then send one byte every 200 ms, forever (a pkt-line or HTTP header that never ends)
  backlog  listen without ever accepting, with the queue already full, so connect() itself hangs
"""

import argparse
import os
import socket
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["silent", "trickle", "backlog"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--watch-pid", type=int, default=0)
    p.add_argument("--ready-file", help="made once the server stalls as asked")
    args = p.parse_args()

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.port))
    held = []
    if args.mode == "backlog":
        server.listen(0)
        # Fill the accept queue: later SYNs are dropped and the client's connect() waits.
        for _ in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", args.port))
            except BlockingIOError:
                pass
            held.append(filler)
        time.sleep(0.1)  # the fillers' handshakes settle into the queue
    else:
        server.listen(16)

        def serve():
            while True:
                conn, _ = server.accept()
                held.append(conn)
                if args.mode == "trickle":
                    threading.Thread(target=trickle, args=(conn,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()

    if args.ready_file:
        open(args.ready_file, "w").close()
    while True:
        time.sleep(0.5)
        if args.watch_pid:
            try:
                os.kill(args.watch_pid, 0)
            except OSError:
                return


def trickle(conn):
    # For git://, "0fff" announces a long pkt-line; for HTTP, a status line whose headers never end.
    first = b"0fff"
    try:
        peek = conn.recv(4, socket.MSG_PEEK)
        if peek[:3] in (b"GET", b"POS"):
            first = b"HTTP/1.1 200 OK\r\nX-Slow: "
        conn.sendall(first)
        while True:
            time.sleep(0.2)
            conn.sendall(b"a")
    except OSError:
        pass


if __name__ == "__main__":
    main()
