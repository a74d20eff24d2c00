#!/usr/bin/python3
"""xmpp-login-check.py - log in to one XMPP server node, directly (not
through the load balancer), and log out: exit 0 if a session was bound,
1 otherwise, with the reason on stderr. For the ejabberd and MongooseIM
recipes' probes (python3-slixmpp).

    xmpp-login-check.py --host ADDR --port PORT --jid USER@DOMAIN
                        --password PW [--timeout SECONDS]

Environment: XMPP_PROBE_TLS=0 logs in without STARTTLS (a listener that
offers none); otherwise STARTTLS is required. XMPP_PROBE_INSECURE=1 does
not verify the certificate (the node is reached by address, so its name
rarely matches).
"""

import argparse
import asyncio
import logging
import os
import ssl
import sys

import slixmpp


class Login(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.result = None
        self.add_event_handler("session_start", self.on_session)
        self.add_event_handler("failed_all_auth", self.on_failed)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_conn_failed)

    def done(self, ok, why):
        if self.result is None:
            self.result = (ok, why)

    def on_session(self, event):
        self.done(True, "session bound as %s" % self.boundjid.full)
        self.disconnect(wait=1.0)

    def on_failed(self, event):
        self.done(False, "authentication refused")

    def on_conn_failed(self, err):
        self.cancel_connection_attempt()
        self.done(False, "cannot connect: %s" % (err,))
        if not self.disconnected.done():
            self.disconnected.set_result(True)

    def on_disconnected(self, reason):
        self.done(False, "closed before a session (%s)" % (reason,))


async def run(a):
    c = Login(a.jid, a.password)
    tls = os.environ.get("XMPP_PROBE_TLS", "1") != "0"
    if os.environ.get("XMPP_PROBE_INSECURE") == "1":
        c.ssl_context.check_hostname = False
        c.ssl_context.verify_mode = ssl.CERT_NONE
    c.connect(address=(a.host, a.port), force_starttls=tls,
              disable_starttls=not tls)
    try:
        await asyncio.wait_for(c.disconnected, a.timeout)
    except asyncio.TimeoutError:
        c.done(False, "no session after %s s" % a.timeout)
        c.abort()
    return c.result or (False, "no answer")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    ok, why = asyncio.get_event_loop().run_until_complete(run(a))
    print("%s:%d %s: %s" % (a.host, a.port, a.jid, why),
          file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
