#!/usr/bin/env python3
"""xmppclients.py - real XMPP clients (slixmpp) for the end-to-end tests.

Keeps N users connected through a load balancer, reconnects each one as
soon as its connection is cut, and meanwhile registers new users (XEP-0077
in-band registration) and logs them in again on a second connection, so
that a test can see what a rolling upgrade of an XMPP cluster does to
clients and to new logins.

    xmppclients.py --port P --domain D --clients N [--host 127.0.0.1]
                   [--prefix u] [--new-users-rate R] [--until-file F]
                   [--status FILE] [--report FILE] [--accounts FILE]
                   [--reconnect-delay S] [--jitter S] [--seed N]

Long-lived users are named PREFIX1..PREFIXN (password "pw-NAME"); each
registers itself in-band on its first connection if the server says the
account does not exist yet. New users are PREFIXnK, one every 1/R s,
each: connect + register + log in, disconnect, connect again + log in,
disconnect.

A login attempt is one TCP connection that should end in a bound session.
It fails if the connection closes, the server refuses the credentials or
the registration, or no session is bound within 20 s. A failed attempt of
a long-lived user is retried after --reconnect-delay + up to --jitter.

--status FILE is rewritten (atomically) every 200 ms with one line
"connected=N cut=N cuts=N failures=N auth_failures=N registered=N" (cut:
users cut at least once; cuts: connections cut). At --until-file (polled
every 100 ms), SIGTERM or SIGINT the state is recorded, every client
disconnects, and the report is written to stdout and --report FILE as one
JSON object:

  clients, connected, lost (= clients - connected at the stop), cut (users
  cut at least once), cuts (connections cut), reconnects (sessions bound
  again after a cut), peak_reconnects_100ms, login_attempts, logins,
  login_failures, auth_failures, new_users, registered,
  registration_failures, new_user_logins, max_login_ms, max_reconnect_ms
  (a cut to the next bound session), failures (the first 20, described)

--accounts FILE gets every account known to exist: the long-lived ones and
each new user whose registration the server confirmed, one JID a line.
--events FILE gets one line per event: "HH:MM:SS.mmm KIND JID DETAIL" for
registered, login (with its duration), fail (with why) and closed.
XMPP_DEBUG=1 logs slixmpp's debug output to stderr.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import sys
import time

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

LOGIN_TIMEOUT = 20.0


def now_ms():
    return time.monotonic() * 1000.0


class Stats:
    def __init__(self):
        self.login_attempts = 0
        self.logins = 0
        self.login_failures = 0
        self.auth_failures = 0
        self.cuts = 0
        self.reconnects = 0
        self.reconnect_times = []
        self.new_users = 0
        self.registered = 0
        self.registration_failures = 0
        self.new_user_logins = 0
        self.max_login_ms = 0.0
        self.max_reconnect_ms = 0.0
        self.failures = []
        self.accounts = []
        self.events = None

    def event(self, kind, jid, detail=""):
        if self.events is not None:
            t = time.time()
            self.events.write("%s.%03d %s %s %s\n" % (
                time.strftime("%H:%M:%S", time.localtime(t)),
                int(t * 1000) % 1000, kind, jid, detail))

    def fail(self, what):
        self.login_failures += 1
        if len(self.failures) < 20:
            self.failures.append(what)

    def peak_reconnects(self, window_ms=100.0):
        t = sorted(self.reconnect_times)
        best = 0
        lo = 0
        for hi in range(len(t)):
            while t[hi] - t[lo] >= window_ms:
                lo += 1
            best = max(best, hi - lo + 1)
        return best


class Conn(slixmpp.ClientXMPP):
    """One connection attempt after another for one account; calls
    owner.on_result(ok, why) once per attempt."""

    def __init__(self, owner, jid, password, register):
        super().__init__(jid, password)
        self.owner = owner
        self.want_register = register
        self.reg_state = None	# None, "ok", "exists", "failed: ..."
        self.attempt_open = False
        self.started_ms = 0.0
        self.timer = None
        self.auth_failed = False
        self.register_plugin("xep_0077")
        self["xep_0077"].force_registration = register
        self["xep_0077"].create_account = register
        # slixmpp 1.8 queues every iq before the session is bound, the
        # in-band registration ones too; let them through while
        # registering.
        self._always_send_everything = register
        self.add_event_handler("register", self.on_register)
        self.add_event_handler("session_start", self.on_session)
        self.add_event_handler("failed_all_auth", self.on_failed_auth)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_conn_failed)

    def attempt(self, host, port):
        self.attempt_open = True
        self.auth_failed = False
        self.started_ms = now_ms()
        self.owner.stats.login_attempts += 1
        self.timer = self.loop.call_later(LOGIN_TIMEOUT, self.on_timeout)
        self.connect(address=(host, port), force_starttls=False,
                     disable_starttls=True)

    def finish(self, ok, why):
        if not self.attempt_open:
            return
        self.attempt_open = False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.owner.on_result(self, ok, why)

    async def on_register(self, form):
        if not self.want_register:
            return
        self.want_register = False
        iq = self.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = self.boundjid.user
        iq["register"]["password"] = self.password
        # Register once: later connections of this account only log in.
        self["xep_0077"].create_account = False
        try:
            await iq.send(timeout=LOGIN_TIMEOUT)
            self.reg_state = "ok"
            self.owner.stats.event("registered", self.boundjid.bare)
            self.owner.on_registered(self)
        except IqError as e:
            cond = e.iq["error"]["condition"]
            if cond == "conflict":
                self.reg_state = "exists"
            else:
                self.reg_state = "failed: " + cond
        except IqTimeout:
            self.reg_state = "failed: timeout"
        self._always_send_everything = False

    def on_session(self, event):
        self.finish(True, "")

    def on_failed_auth(self, event):
        self.auth_failed = True

    def on_timeout(self):
        self.timer = None
        if self.attempt_open:
            self.finish(False, "no session after %.0f s" % LOGIN_TIMEOUT)
            self.abort()

    def on_conn_failed(self, err):
        # slixmpp retries a refused TCP connect by itself; count it once.
        if self.attempt_open:
            self.cancel_connection_attempt()
            self.finish(False, "connect: %s" % (err,))

    def on_disconnected(self, reason):
        if self.attempt_open:
            if self.auth_failed:
                why = "authentication refused"
            elif self.reg_state is not None and \
                    self.reg_state.startswith("failed"):
                why = "registration " + self.reg_state
            else:
                why = "closed before a session (%s)" % (reason,)
            self.finish(False, why)
        else:
            self.owner.on_closed(self)


class Runner:
    def __init__(self, args):
        self.a = args
        self.stats = Stats()
        self.loop = asyncio.get_event_loop()
        self.stopping = False
        self.users = {}		# long-lived: Conn -> state dict
        self.n_new = 0
        self.new_tasks = set()
        self.rng = random.Random(args.seed)

    # -- long-lived users ------------------------------------------------
    def start_user(self, i):
        name = "%s%d" % (self.a.prefix, i)
        jid = "%s@%s" % (name, self.a.domain)
        c = Conn(self, jid + "/cutover", "pw-" + name, register=True)
        self.users[c] = {"kind": "user", "jid": jid, "connected": False,
                         "ever": False, "cut_at": None, "was_cut": False}
        c.attempt(self.a.host, self.a.port)

    def retry_later(self, c):
        if self.stopping:
            return
        d = self.a.reconnect_delay + self.rng.uniform(0, self.a.jitter)
        self.loop.call_later(d, self.retry, c)

    def retry(self, c):
        if not self.stopping:
            c.attempt(self.a.host, self.a.port)

    # -- callbacks from Conn ---------------------------------------------
    def on_registered(self, c):
        st = self.users.get(c)
        if st is None:
            self.stats.registered += 1
        self.stats.accounts.append(c.boundjid.bare)

    def on_result(self, c, ok, why):
        s = self.stats
        st = self.users.get(c)
        s.event("login" if ok else "fail", c.boundjid.bare,
                "%.0fms %s" % (now_ms() - c.started_ms, why))
        if ok:
            s.logins += 1
            s.max_login_ms = max(s.max_login_ms, now_ms() - c.started_ms)
        else:
            if c.auth_failed:
                s.auth_failures += 1
            if not self.stopping:
                s.fail("%s: %s" % (c.boundjid.bare, why))
        if st is None:
            self.new_user_step(c, ok, why)
            return
        if ok:
            if st["ever"] is False and c.reg_state == "exists":
                s.accounts.append(st["jid"])
            st["ever"] = True
            st["connected"] = True
            if st["cut_at"] is not None:
                s.reconnects += 1
                t = now_ms()
                s.reconnect_times.append(t)
                s.max_reconnect_ms = max(s.max_reconnect_ms,
                                         t - st["cut_at"])
                st["cut_at"] = None
            if self.stopping:
                c.disconnect(wait=1.0)
        else:
            self.retry_later(c)

    def on_closed(self, c):
        st = self.users.get(c)
        if st is None or self.stopping:
            if st is not None:
                st["connected"] = False
            return
        self.stats.event("closed", c.boundjid.bare)
        if st["connected"]:
            st["connected"] = False
            st["was_cut"] = True
            st["cut_at"] = now_ms()
            self.stats.cuts += 1
            self.retry(c)

    # -- new users --------------------------------------------------------
    def new_user(self):
        self.n_new += 1
        name = "%sn%d" % (self.a.prefix, self.n_new)
        jid = "%s@%s" % (name, self.a.domain)
        c = Conn(self, jid, "pw-" + name, register=True)
        c.phase = "register"
        self.stats.new_users += 1
        self.new_tasks.add(c)
        c.attempt(self.a.host, self.a.port)

    def new_user_step(self, c, ok, why):
        s = self.stats
        if c.phase == "register":
            if c.reg_state != "ok":
                s.registration_failures += 1
                if c.reg_state is not None and ok:
                    s.fail("%s: registration %s" % (c.boundjid.bare,
                                                    c.reg_state))
                self.drop(c, ok)
                return
            if not ok:
                self.drop(c, ok)
                return
            c.disconnect(wait=1.0)
            c.phase = "closing"
            c.add_event_handler("disconnected", lambda ev: self.relogin(c),
                                disposable=True)
            return
        if ok:
            s.new_user_logins += 1
        self.drop(c, ok)

    def relogin(self, c):
        # Log in again on a new connection: the account must work
        # wherever the load balancer sends this one.
        jid, pw = c.boundjid.bare, c.password
        self.new_tasks.discard(c)
        if self.stopping:
            return
        n = Conn(self, jid, pw, register=False)
        n.phase = "login"
        self.new_tasks.add(n)
        n.attempt(self.a.host, self.a.port)

    def drop(self, c, connected):
        self.new_tasks.discard(c)
        if connected:
            c.disconnect(wait=1.0)
        else:
            c.abort()

    # -- status, stop, report ---------------------------------------------
    def connected(self):
        return sum(1 for st in self.users.values() if st["connected"])

    def write_atomic(self, path, text):
        tmp = "%s.tmp.%d" % (path, os.getpid())
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, path)

    def write_status(self):
        if self.a.status:
            cut = sum(1 for st in self.users.values() if st["was_cut"])
            self.write_atomic(self.a.status,
                              "connected=%d cut=%d cuts=%d failures=%d "
                              "auth_failures=%d registered=%d\n"
                              % (self.connected(), cut, self.stats.cuts,
                                 self.stats.login_failures,
                                 self.stats.auth_failures,
                                 self.stats.registered))

    def report(self):
        s = self.stats
        connected = self.connected()
        r = {
            "clients": self.a.clients,
            "connected": connected,
            "lost": self.a.clients - connected,
            "cut": sum(1 for st in self.users.values() if st["was_cut"]),
            "cuts": s.cuts,
            "reconnects": s.reconnects,
            "peak_reconnects_100ms": s.peak_reconnects(),
            "login_attempts": s.login_attempts,
            "logins": s.logins,
            "login_failures": s.login_failures,
            "auth_failures": s.auth_failures,
            "new_users": s.new_users,
            "registered": s.registered,
            "registration_failures": s.registration_failures,
            "new_user_logins": s.new_user_logins,
            "max_login_ms": round(s.max_login_ms),
            "max_reconnect_ms": round(s.max_reconnect_ms),
            "failures": s.failures,
        }
        return json.dumps(r, sort_keys=True)

    async def run(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.request_stop)
        for i in range(1, self.a.clients + 1):
            self.start_user(i)
            await asyncio.sleep(0.01)
        # New users start once every long-lived user has logged in.
        next_new = None
        while not self.stopping:
            if self.a.until_file and os.path.exists(self.a.until_file):
                break
            t = time.monotonic()
            if next_new is None and self.a.new_users_rate > 0 and \
                    self.connected() == self.a.clients:
                next_new = t
            if next_new is not None and t >= next_new:
                self.new_user()
                next_new += 1.0 / self.a.new_users_rate
            self.write_status()
            await asyncio.sleep(0.1)
        # Let new users that are half-way finish (their accounts count).
        deadline = time.monotonic() + 2 * LOGIN_TIMEOUT
        while self.new_tasks and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        text = self.report()
        self.stopping = True
        for c in list(self.users):
            c.disconnect(wait=1.0)
        for c in list(self.new_tasks):
            c.abort()
        await asyncio.sleep(0.5)
        if self.a.accounts:
            self.write_atomic(self.a.accounts,
                              "".join(j + "\n" for j in self.stats.accounts))
        if self.a.report:
            self.write_atomic(self.a.report, text + "\n")
        self.write_status()
        print(text, flush=True)

    def request_stop(self):
        self.stopping = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--prefix", default="u")
    p.add_argument("--new-users-rate", type=float, default=0.0)
    p.add_argument("--until-file")
    p.add_argument("--status")
    p.add_argument("--report")
    p.add_argument("--accounts")
    p.add_argument("--events")
    p.add_argument("--reconnect-delay", type=float, default=0.1)
    p.add_argument("--jitter", type=float, default=0.4)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if not a.host.startswith("127."):
        p.error("only 127.x.x.x hosts")
    debug = os.environ.get("XMPP_DEBUG")
    logging.basicConfig(level=logging.DEBUG if debug else logging.CRITICAL)
    r = Runner(a)
    if a.events:
        r.stats.events = open(a.events, "w", buffering=1)
    r.loop.run_until_complete(r.run())


if __name__ == "__main__":
    sys.exit(main())
