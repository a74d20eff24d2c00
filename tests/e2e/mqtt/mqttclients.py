#!/usr/bin/python3
"""mqttclients.py - real MQTT clients (python3-paho-mqtt) for the
end-to-end tests: N clients on one asyncio loop, each connected through a
load balancer to a broker, subscribed to its own topic, and reconnecting
as soon as its connection is cut; to see what a rolling restart of the
brokers does to them.

    mqttclients.py --port P --clients N [--host 127.0.0.1]
                   [--until-file F] [--status FILE] [--report FILE]
                   [--events FILE] [--reconnect-delay S] [--jitter S]

A client is connected once the broker's CONNACK accepted it and its
subscription (QoS 1, topic cutover/c/ID) is granted. A connection that
closes, or a connect that fails, before that is a failed attempt, retried
after --reconnect-delay + up to --jitter seconds (default 0.1 + 0.2).

--status FILE is rewritten (atomically) every 200 ms with one line
"connected=N cut=N cuts=N failures=N". At --until-file (polled every 100 ms),
SIGTERM or SIGINT: every connected client publishes one message (QoS 1)
to its own topic and waits up to 10 s for it to come back through the
broker, then all disconnect. The report, on stdout and in --report FILE,
is one JSON object:

  clients, connected (at the stop), lost (clients - connected), cut
  (clients cut at least once), cuts, reconnects, peak_reconnects_100ms,
  max_reconnect_ms (a cut to the next accepted connection), attempts,
  failures (failed attempts), delivered (round trips that came back),
  failure_list (the first 20, described)
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import time

import paho.mqtt.client as mqtt


def now_ms():
    return time.monotonic() * 1000.0


class Client:
    def __init__(self, run, i):
        self.run = run
        self.id = "cutover-%d" % i
        self.topic = "cutover/c/%d" % i
        self.state = "idle"	# idle, connecting, subscribing, up, down
        self.was_cut = False
        self.cut_at = None
        self.delivered = False
        self.sub_mid = None
        c = mqtt.Client(client_id=self.id, clean_session=True)
        c.on_connect = self.on_connect
        c.on_subscribe = self.on_subscribe
        c.on_disconnect = self.on_disconnect
        c.on_message = self.on_message
        loop = run.loop
        c.on_socket_open = lambda cl, ud, s: loop.add_reader(s, self.read)
        c.on_socket_close = lambda cl, ud, s: loop.remove_reader(s)
        c.on_socket_register_write = \
            lambda cl, ud, s: loop.add_writer(s, self.write)
        c.on_socket_unregister_write = lambda cl, ud, s: loop.remove_writer(s)
        self.c = c

    def read(self):
        self.c.loop_read()

    def write(self):
        self.c.loop_write()

    def attempt(self):
        if self.run.stopping:
            return
        self.state = "connecting"
        self.run.attempts += 1
        try:
            self.c.connect(self.run.a.host, self.run.a.port, keepalive=60)
        except (OSError, socket.error) as e:
            self.failed("connect: %s" % e)

    def failed(self, why):
        self.state = "down"
        self.run.fail("%s: %s" % (self.id, why))
        self.run.retry_later(self)

    def on_connect(self, c, ud, flags, rc):
        if rc != 0:
            self.failed("CONNACK %d (%s)" % (rc, mqtt.connack_string(rc)))
            c.disconnect()
            return
        self.state = "subscribing"
        _, self.sub_mid = c.subscribe(self.topic, qos=1)

    def on_subscribe(self, c, ud, mid, granted):
        if mid != self.sub_mid or self.state != "subscribing":
            return
        if granted and granted[0] == 128:
            self.failed("subscription refused")
            c.disconnect()
            return
        self.state = "up"
        self.run.event("up", self.id)
        if self.cut_at is not None:
            t = now_ms()
            self.run.reconnects += 1
            self.run.reconnect_times.append(t)
            self.run.max_reconnect_ms = max(self.run.max_reconnect_ms,
                                            t - self.cut_at)
            self.cut_at = None

    def on_message(self, c, ud, msg):
        if msg.topic == self.topic and msg.payload == b"round trip":
            self.delivered = True

    def on_disconnect(self, c, ud, rc):
        if self.run.stopping:
            self.state = "down"
            return
        if self.state == "up":
            self.state = "down"
            self.was_cut = True
            self.cut_at = now_ms()
            self.run.cuts += 1
            self.run.event("cut", self.id)
            # Reconnect at once, as MQTT clients do.
            self.run.loop.call_soon(self.attempt)
        elif self.state in ("connecting", "subscribing"):
            self.failed("closed before accepted (rc %d)" % rc)


class Run:
    def __init__(self, a):
        self.a = a
        self.loop = asyncio.get_event_loop()
        self.rng = random.Random(1)
        self.stopping = False
        self.clients = []
        self.attempts = 0
        self.failures = 0
        self.failure_list = []
        self.cuts = 0
        self.reconnects = 0
        self.reconnect_times = []
        self.max_reconnect_ms = 0.0
        self.events = open(a.events, "w", buffering=1) if a.events else None

    def event(self, kind, cid):
        if self.events is not None:
            t = time.time()
            self.events.write("%s.%03d %s %s\n" % (
                time.strftime("%H:%M:%S", time.localtime(t)),
                int(t * 1000) % 1000, kind, cid))

    def fail(self, what):
        self.failures += 1
        self.event("fail", what)
        if len(self.failure_list) < 20:
            self.failure_list.append(what)

    def retry_later(self, cl):
        if not self.stopping:
            d = self.a.reconnect_delay + self.rng.uniform(0, self.a.jitter)
            self.loop.call_later(d, cl.attempt)

    def connected(self):
        return sum(1 for cl in self.clients if cl.state == "up")

    def peak_reconnects(self, window_ms=100.0):
        t = sorted(self.reconnect_times)
        best = lo = 0
        for hi in range(len(t)):
            while t[hi] - t[lo] >= window_ms:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def write_atomic(self, path, text):
        tmp = "%s.tmp.%d" % (path, os.getpid())
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, path)

    def write_status(self):
        if self.a.status:
            cut = sum(1 for cl in self.clients if cl.was_cut)
            self.write_atomic(self.a.status,
                              "connected=%d cut=%d cuts=%d failures=%d\n"
                              % (self.connected(), cut, self.cuts,
                                 self.failures))

    async def misc(self):
        while True:
            for cl in self.clients:
                if cl.c.socket() is not None:
                    cl.c.loop_misc()
            await asyncio.sleep(1.0)

    async def main(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.request_stop)
        misc = asyncio.ensure_future(self.misc())
        for i in range(1, self.a.clients + 1):
            cl = Client(self, i)
            self.clients.append(cl)
            cl.attempt()
            if i % 20 == 0:
                await asyncio.sleep(0.01)
        stop = False
        while not stop:
            if self.a.until_file and os.path.exists(self.a.until_file):
                stop = True
            stop = stop or self.stop_requested
            self.write_status()
            await asyncio.sleep(0.1)
        connected = self.connected()
        up = [cl for cl in self.clients if cl.state == "up"]
        self.stopping = True
        for cl in up:
            cl.c.publish(cl.topic, b"round trip", qos=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and \
                not all(cl.delivered for cl in up):
            await asyncio.sleep(0.05)
        report = {
            "clients": len(self.clients),
            "connected": connected,
            "lost": len(self.clients) - connected,
            "cut": sum(1 for cl in self.clients if cl.was_cut),
            "cuts": self.cuts,
            "reconnects": self.reconnects,
            "peak_reconnects_100ms": self.peak_reconnects(),
            "max_reconnect_ms": round(self.max_reconnect_ms),
            "attempts": self.attempts,
            "failures": self.failures,
            "delivered": sum(1 for cl in up if cl.delivered),
            "failure_list": self.failure_list,
        }
        for cl in self.clients:
            if cl.c.socket() is not None:
                cl.c.disconnect()
        await asyncio.sleep(0.3)
        misc.cancel()
        text = json.dumps(report, sort_keys=True)
        if self.a.report:
            self.write_atomic(self.a.report, text + "\n")
        self.write_status()
        print(text, flush=True)

    stop_requested = False

    def request_stop(self):
        self.stop_requested = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--until-file")
    p.add_argument("--status")
    p.add_argument("--report")
    p.add_argument("--events")
    p.add_argument("--reconnect-delay", type=float, default=0.1)
    p.add_argument("--jitter", type=float, default=0.2)
    a = p.parse_args()
    if not a.host.startswith("127."):
        p.error("only 127.x.x.x hosts")
    r = Run(a)
    r.loop.run_until_complete(r.main())


if __name__ == "__main__":
    sys.exit(main())
