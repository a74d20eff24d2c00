#!/usr/bin/env bash
# ejabberd-findings.sh - what the ejabberd recipe avoids, measured: the
# usual by-hand steps of a cluster upgrade done on a real two-node
# ejabberd cluster (Debian's) behind HAProxy (TCP mode, retries 3, option
# redispatch, check inter 500ms) while real XMPP clients stay connected,
# reconnect when cut, and new users register and log in, two a second. Not
# part of `make test` (it shows failures on purpose); run it by hand:
#
#	bash tests/e2e/xmpp/ejabberd-findings.sh
#
# Phases, each on a node that is in rotation, as when a node is upgraded
# without taking it out of the load balancer first:
#   A  ejabberdctl stop with users on it (then started again: it rejoins
#      the cluster by itself, its Mnesia copy intact)
#   B  ejabberdctl leave_cluster with users on it
#   C  the node started again after leave_cluster, before join_cluster,
#      while the other node's users reconnect (moved by a shed)
#   D  join_cluster
# For each: users cut, failed logins (and how many refused as
# not-authorized), registrations; for D, the accounts registered on the
# node during C that exist nowhere after it. The README's ejabberd
# findings come from runs of this script.
# shellcheck disable=SC2317
set -eu
E2E_DEADLINE=${E2E_DEADLINE:-300}
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ejabberd-lib.sh"
e2e_init ejabberd-findings

PY=/usr/bin/python3
USERS=${USERS:-30}
ej_init
P1=$(free_port)
P2=$(free_port)
ej_node ej1 "$P1" 23.01
ej_node ej2 "$P2" 23.01
ej_start ej1
ej_start ej2
ejctl ej2 join_cluster ej1@localhost >/dev/null
cluster_is() { [ "$(ejctl "$1" list_cluster | sort | tr '\n' ' ')" = "$2" ]; }
wait_for "a cluster of both" 30 cluster_is ej1 "ej1@localhost ej2@localhost "

fe=$(free_port)
cat >"$T/lb1.cfg" <<CFG
global
    maxconn 2000
    stats socket $T/lb1.sock level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5m
    timeout server 5m
    retries 3
    option redispatch
frontend xmpp_in
    bind 127.0.0.1:$fe
    default_backend xmpp
backend xmpp
    balance leastconn
    server ej1 127.0.0.1:$P1 check inter 500ms
    server ej2 127.0.0.1:$P2 check inter 500ms
CFG
start_lb_cfg lb1 "$T/lb1.cfg"
wait_lb_up lb1 xmpp
bg_run xmpp "$PY" "$E2E_LIB_DIR/xmpp/xmppclients.py" --port "$fe" \
	--domain localhost --clients "$USERS" --new-users-rate 2 \
	--until-file "$T/stop" --status "$T/st" --report "$T/report" \
	--accounts "$T/accounts" --events "$T/events"
users_up() { grep -q "^connected=$USERS " "$T/st"; }
wait_for "$USERS users connected" 60 users_up

field() { sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" "$T/st"; }
snap() { echo "$(field cuts) $(field failures) $(field auth_failures) $(field registered)"; }
now() { date +%H:%M:%S.%N | cut -c1-12; }
sessions() { echo "ej1 $(srv_scur lb1 xmpp/ej1), ej2 $(srv_scur lb1 xmpp/ej2)"; }

# report NAME BEFORE FROM: what changed since the snapshot BEFORE, and the
# failures logged since time FROM, by kind.
report() {
	local c0 f0 a0 r0 c1 f1 a1 r1 kinds
	read -r c0 f0 a0 r0 <<<"$2"
	read -r c1 f1 a1 r1 <<<"$(snap)"
	kinds=$(awk -v from="$3" '$1 >= from && $2 == "fail" {
			$1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); n[$0]++ }
		END { for (k in n) printf "%s%d x %s", s, n[k], k; s = "; " }' \
		"$T/events" | sed 's/ (None)//g')
	echo "# $1: cut $((c1 - c0)), failed logins $((f1 - f0)) (not-authorized $((a1 - a0))), registered $((r1 - r0))"
	[ -n "$kinds" ] && echo "#    failures: $kinds"
	return 0
}
settle() { sleep 6; }

echo "# $USERS users on: $(sessions)"
b=$(snap)
t=$(now)
ejctl ej2 stop >/dev/null
settle
report "A. ejabberdctl stop ej2 in rotation" "$b" "$t"
ej_start ej2
wait_for "ej2 back in the cluster" 30 cluster_is ej1 "ej1@localhost ej2@localhost "
wait_lb_up lb1 xmpp

echo "# now: $(sessions)"
b=$(snap)
t=$(now)
ejctl ej1 leave_cluster ej1@localhost >/dev/null
settle
report "B. leave_cluster ej1 in rotation" "$b" "$t"

b=$(snap)
t=$(now)
ej_start ej1
echo "# ej1 started again, not joined: it has $(ejctl ej1 registered_users localhost | grep -c .) accounts, ej2 $(ejctl ej2 registered_users localhost | grep -c .)"
# Users reconnect meanwhile (network changes, apps restarted): here
# ej2's, moved by a shed; leastconn sends them to the empty ej1.
"$CUTOVER" --lb "unix:$T/lb1.sock" shed xmpp/ej2 --rate 50/s >/dev/null
settle
"$CUTOVER" --lb "unix:$T/lb1.sock" undrain xmpp/ej2 >/dev/null
report "C. ej1 fresh, in rotation, before join_cluster; users reconnect" "$b" "$t"
t_c=$t

b=$(snap)
t=$(now)
ejctl ej1 join_cluster ej2@localhost >/dev/null
wait_for "ej1 joined" 60 cluster_is ej2 "ej1@localhost ej2@localhost "
settle
report "D. join_cluster ej1 (in rotation)" "$b" "$t"

# Accounts whose registration the server confirmed during C and D.
awk -v from="$t_c" '$1 >= from && $2 == "registered" { print $3 }' "$T/events" |
	sort -u >"$T/reg-cd"
ejctl ej2 registered_users localhost | sed 's/$/@localhost/' | sort >"$T/users-ej2"
lost=$(comm -23 "$T/reg-cd" "$T/users-ej2")
echo "# accounts registered during C and D: $(grep -c . "$T/reg-cd"), missing from the cluster after D: $(grep -c . <<<"$lost" || true)"
if [ -n "$lost" ]; then
	u=$(head -n 1 <<<"$lost")
	echo "#    e.g. $u: check_account on ej1 (auth cache): $(ejctl ej1 check_account "${u%@*}" localhost >/dev/null 2>&1 && echo yes || echo no)," \
		"on ej2: $(ejctl ej2 check_account "${u%@*}" localhost >/dev/null 2>&1 && echo yes || echo no)"
fi
# A user refused by ej1 while it was fresh, who exists on ej2.
u=$(awk -v from="$t" '$1 >= from && $2 == "fail" && /authentication refused/ { print $3 }' \
	"$T/events" | while read -r j; do
		grep -qx "$j" "$T/users-ej2" && { echo "$j"; break; }
	done)
if [ -n "$u" ]; then
	has() { ejctl "$1" check_account "${u%@*}" localhost >/dev/null 2>&1 && echo yes || echo no; }
	echo "# after the join, $u (an account of the cluster) exists for ej1: $(has ej1), for ej2: $(has ej2)"
	ejctl ej1 clear_cache >/dev/null 2>&1
	echo "#    after ejabberdctl clear_cache on ej1: $(has ej1)"
fi
echo "# users connected now: $(cat "$T/st")"
touch "$T/stop"
bg_wait xmpp 90
echo "# clients at the end: $(cat "$T/report")"
ok "findings printed above"
e2e_done
