#!/usr/bin/python3
"""puma-standin.py - stand-in for Mastodon's web process (puma in cluster
mode) in the recipe tests: a master that holds the listening socket and
forks worker processes that serve HTTP on it, with puma's signals.

    puma-standin.py --port P --version-file F [--workers N] [--pidfile F]

Each worker reads the release from --version-file when it starts and
answers GET /health with "OK" and GET /api/v1/instance with
{"uri": "standin", "version": RELEASE} (as Mastodon does), anything else
with 404; every answer carries X-Backend-Version: RELEASE. SIGUSR1 to the
master is a phased restart, as in puma: the workers are replaced one at a
time; a new worker is forked and serves before the old one is told to
stop, and an old worker stops accepting, finishes its requests and exits;
the socket stays open throughout, so no connection is refused. SIGTERM
stops the workers and the master. Workers are killed if the master dies
(PR_SET_PDEATHSIG). "listening 127.0.0.1:P" goes to stdout once the
workers serve; one line per phased restart step to stderr.
"""

import argparse
import ctypes
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PR_SET_PDEATHSIG = 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        release = self.server.release
        if self.path == "/health":
            self.reply(200, "text/plain", b"OK")
        elif self.path == "/api/v1/instance":
            body = json.dumps({"uri": "standin", "version": release})
            self.reply(200, "application/json", body.encode())
        else:
            self.reply(404, "text/plain", b"not found")

    def reply(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend-Version", self.server.release)
        if self.server.stopping:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class Server(ThreadingHTTPServer):
    """Knows its connections, to end the idle ones when it stops."""

    def finish_request(self, request, client_address):
        self.conns.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            self.conns.discard(request)


def worker(sock, version_file, ready_w):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    for s in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)
    with open(version_file) as f:
        release = f.read().strip()
    srv = Server(("127.0.0.1", 0), Handler, bind_and_activate=False)
    srv.socket.close()
    srv.socket = sock
    srv.release = release
    srv.stopping = False
    srv.conns = set()
    srv.daemon_threads = False
    srv.block_on_close = True

    def stop(signum, frame):
        # Stop accepting; requests in flight finish with "Connection:
        # close" (server_close waits for them); kept-alive connections
        # waiting for a next request see it end.
        srv.stopping = True
        for c in list(srv.conns):
            try:
                c.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        threading.Thread(target=srv.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    os.write(ready_w, b"1")
    os.close(ready_w)
    srv.serve_forever(poll_interval=0.05)
    srv.server_close()
    os._exit(0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--version-file", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--pidfile")
    a = p.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", a.port))
    sock.listen(128)
    # Every worker waits on this socket: non-blocking, so that the ones
    # that lose the race for a connection go back to their loop instead
    # of blocking in accept().
    sock.setblocking(False)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())

    def spawn():
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            worker(sock, a.version_file, w)
        os.close(w)
        ok = os.read(r, 1) == b"1"	# the worker serves
        os.close(r)
        return pid if ok else None

    def reap(pid):
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)

    pending = []
    signal.signal(signal.SIGUSR1, lambda s, f: pending.append("phased"))
    signal.signal(signal.SIGTERM, lambda s, f: pending.append("stop"))
    workers = [spawn() for _ in range(a.workers)]
    if None in workers:
        sys.exit("a worker did not start")
    print("listening 127.0.0.1:%d" % a.port, flush=True)
    while True:
        if not pending:
            time.sleep(0.05)
            continue
        what = pending.pop(0)
        if what == "stop":
            for pid in workers:
                reap(pid)
            return 0
        for i, old in enumerate(workers):
            new = spawn()
            if new is None:
                print("phased restart: worker %d did not start" % i,
                      file=sys.stderr, flush=True)
                break
            workers[i] = new
            reap(old)
            print("phased restart: worker %d %d -> %d" % (i, old, new),
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
