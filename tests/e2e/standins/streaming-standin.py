#!/usr/bin/python3
"""streaming-standin.py - stand-in for Mastodon's streaming server in the
recipe tests: long-lived connections that stay open until the server goes
away, and the health endpoint the recipe probes.

    streaming-standin.py --port P --version-file F [--pidfile F]

A connection whose first line is "GET /api/v1/streaming/health ..." gets
an HTTP 200 with body "OK" and is closed (as Mastodon's). Any other first
line "hello ID" (the test's long-lived clients, tests/tools/tcpclients)
gets "RELEASE hello ID" back and stays open, every further line echoed
with the release in front: a client sees which release it is connected
to. The release is read from --version-file at start. SIGTERM closes
every connection and exits, as the real server does when systemd stops
it. "listening 127.0.0.1:P" goes to stdout once it listens.
"""

import argparse
import asyncio
import os
import signal
import sys


async def main(a):
    with open(a.version_file) as f:
        release = f.read().strip()
    conns = set()

    async def handle(reader, writer):
        conns.add(writer)
        try:
            first = await reader.readline()
            if first.startswith(b"GET /api/v1/streaming/health"):
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain"
                             b"\r\nContent-Length: 2\r\nConnection: close"
                             b"\r\n\r\nOK")
                await writer.drain()
                return
            line = first
            while line:
                writer.write(release.encode() + b" " + line)
                await writer.drain()
                line = await reader.readline()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            conns.discard(writer)
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", a.port,
                                        reuse_address=True)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("listening 127.0.0.1:%d" % a.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    for w in list(conns):
        w.close()
    await asyncio.sleep(0.05)
    return 0


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--version-file", required=True)
    p.add_argument("--pidfile")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
