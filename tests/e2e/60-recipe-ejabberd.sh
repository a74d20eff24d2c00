#!/usr/bin/env bash
# 60-recipe-ejabberd: the ejabberd recipe (contrib/recipes/ejabberd) on a
# real cluster. Debian's ejabberd runs two nodes on loopback (own config,
# spool, cookie, node names, a private epmd), joined in one Mnesia
# cluster, behind a real HAProxy in TCP mode. Real XMPP clients
# (python3-slixmpp) keep 40 users connected through HAProxy and
# reconnect when cut, while new users register in-band and log in again,
# two a second, throughout. cutover runs the recipe's plan: each node is
# drained, its users shed at a pace, it leaves the cluster (its VM exits),
# its "new version" is installed (the one simulated step: the release
# named in its config, see xmpp/install-release.sh), it starts, joins the
# cluster again with its peer, and is checked (both nodes in the cluster,
# every account there, the new version, a real login) before it gets
# traffic. At the end: every user cut came back, no login or registration
# failed, both nodes are in the cluster on the new version, and every
# account registered at any time exists on both nodes.
# e2e: real-software
set -eu
E2E_DEADLINE=${E2E_DEADLINE:-240}
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-180}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/recipes-lib.sh"
. "$(dirname "$0")/xmpp/ejabberd-lib.sh"
e2e_init 60-recipe-ejabberd

PY=/usr/bin/python3
RECIPE=$REPO/contrib/recipes/ejabberd
USERS=40

ej_init
P1=$(free_port)
P2=$(free_port)
ej_node ej1 "$P1" 23.01-cutover1
ej_node ej2 "$P2" 23.01-cutover1
t0=$(now_ms)
ej_start ej1
ej_start ej2
assert_rc "ej2 joins ej1's cluster" 0 ejctl ej2 join_cluster ej1@localhost
cluster_is() {
	[ "$(ejctl "$1" list_cluster | sort | tr '\n' ' ')" = "$2" ]
}
wait_for "a cluster of both" 30 cluster_is ej1 "ej1@localhost ej2@localhost "
assert_rc "a probe account" 0 ejctl ej1 register probe localhost probe-pw
echo "# two ejabberd nodes up and clustered in $(($(now_ms) - t0)) ms"

fe=$(free_port)
cat >"$T/lb1.cfg" <<CFG
global
    maxconn 2000
    stats socket $T/lb1.sock level admin
    stats maxconn 20
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
	--until-file "$T/stop" --status "$T/xmpp.status" \
	--report "$T/xmpp.report" --accounts "$T/accounts" \
	--events "$T/xmpp-events.log"
users_connected() { grep -q "^connected=$1 " "$T/xmpp.status"; }
wait_for "$USERS users connected" 60 users_connected "$USERS"
sleep 2	# new users are registering now, too
echo "# before: $(cat "$T/xmpp.status")"
beam1=$(cat "$T/ej/ej1/ejabberd.pid")
beam2=$(cat "$T/ej/ej2/ejabberd.pid")

# The recipe's plan as it is, but for the LB, where the hooks are,
# shorter times and one passing probe instead of two (every change is
# checked to apply).
recipe_plan ejabberd plan.yaml "$T/plan.yaml" "$T/lb1.sock"
recipe_sed "$T/plan.yaml" '^  timeout: 2m ' '  timeout: 1s '
recipe_sed "$T/plan.yaml" '^  timeout: 10m ' '  timeout: 2m '
recipe_sed "$T/plan.yaml" '^  rise: 2' '  rise: 1'
recipe_sed "$T/plan.yaml" '^  interval: 2s' '  interval: 300ms'
recipe_sed "$T/plan.yaml" '^  deadline: 10m' '  deadline: 2m'
recipe_sed "$T/plan.yaml" '^  for: 1m ' '  for: 2s '

export EJABBERDCTL="$EJCTL"
export EJABBERD_NODE='%s@localhost'
export EJABBERD_INSTALL="$E2E_LIB_DIR/xmpp/install-release.sh $T %s 23.01-cutover2"
export EJABBERD_EXPECT_VERSION=23.01-cutover2
export XMPP_PROBE_JID=probe@localhost XMPP_PROBE_PASSWORD=probe-pw
export XMPP_PROBE_TLS=0 EJABBERD_WAIT=60
t0=$(now_ms)
assert_rc "the ejabberd recipe upgrades both nodes" 0 \
	"$CUTOVER" rollout "$T/plan.yaml" --yes
t_roll=$(($(now_ms) - t0))
echo "$OUT" >"$T/rollout.out"
flat=$(tr '\n' ' ' <<<"$OUT")
assert_match "summary" "rollout done: 2 servers upgraded" "$OUT"
for n in ej1 ej2; do
	assert_match "$n: users shed after the drain deadline" \
		"xmpp/$n: wait_idle -> shedding .*xmpp/$n: shedding -> maint" "$flat"
	assert_match "$n left the cluster and its VM stopped" \
		"$n@localhost is out; the cluster is ej[12]@localhost" "$flat"
	assert_match "$n installed, started, joined" \
		"$n: release 23.01-cutover2 installed.*starting $n@localhost.*$n@localhost joins the cluster of ej[12]@localhost" "$flat"
	assert_match "$n probed (the recipe's check) before it got traffic" \
		"xmpp/$n: upgrading -> probing .*xmpp/$n: probing -> enabling" "$flat"
	assert_eq "$n ready again" ready "$(srv_admin lb1 "xmpp/$n")"
done
sleep 2	# users and logins after the upgrade, on both nodes
touch "$T/stop"
bg_wait xmpp 90
report=$(cat "$T/xmpp.report")
echo "# clients: $report"

jnum() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$report" "$1"; }
assert_eq "every user connected at the end" "$USERS" "$(jnum connected)"
assert_eq "no user lost" 0 "$(jnum lost)"
assert_match "users were cut (shed) during the upgrade" '^[1-9][0-9]*$' "$(jnum cuts)"
assert_eq "every cut user reconnected" "$(jnum cuts)" "$(jnum reconnects)"
assert_eq "no login failed" 0 "$(jnum login_failures)"
assert_eq "no login was refused" 0 "$(jnum auth_failures)"
assert_eq "no registration failed" 0 "$(jnum registration_failures)"
assert_eq "every new user logged in again" "$(jnum registered)" "$(jnum new_user_logins)"
assert_match "new users registered throughout" '^[1-9][0-9]+$' "$(jnum registered)"

assert_rc "the recipe's check passes on ej1 (peer ej2)" 0 \
	"$RECIPE/ejabberd-node.sh" check ej1 127.0.0.1 ej2 "$P1"
assert_match "it checks the cluster, the accounts and a login" \
	"ej1@localhost: started, in the cluster with ej2@localhost, accounts complete, login ok" "$OUT"
EJABBERD_EXPECT_VERSION=23.01-other assert_rc "the check fails on a wrong version" 1 \
	"$RECIPE/ejabberd-node.sh" check ej2 127.0.0.1 ej1 "$P2"
assert_match "and says why" "ej2@localhost does not run 23.01-other" "$ERR"
for n in ej1 ej2; do
	assert_eq "$n sees a cluster of both" "ej1@localhost ej2@localhost " \
		"$(ejctl "$n" list_cluster | sort | tr '\n' ' ')"
	assert_match "$n runs the new release" "ejabberd 23.01-cutover2 is running" \
		"$(ejctl "$n" status)"
	ejctl "$n" registered_users localhost | sed 's/$/@localhost/' | sort \
		>"$T/users-$n"
	missing=$(sort -u "$T/accounts" | comm -23 - "$T/users-$n")
	assert_eq "no account missing on $n ($(wc -l <"$T/accounts") accounts)" "" "$missing"
done
assert_match "ej1's VM was restarted" '^[0-9]+$' "$(cat "$T/ej/ej1/ejabberd.pid")"
[ "$(cat "$T/ej/ej1/ejabberd.pid")" != "$beam1" ] && ok "ej1 runs in a new VM" ||
	not_ok "ej1 runs in a new VM" "pid still $beam1"
[ "$(cat "$T/ej/ej2/ejabberd.pid")" != "$beam2" ] && ok "ej2 runs in a new VM" ||
	not_ok "ej2 runs in a new VM" "pid still $beam2"
echo "# measured: rollout ${t_roll} ms for 2 nodes; users=$USERS cuts=$(jnum cuts)" \
	"reconnects=$(jnum reconnects) peak_reconnects_100ms=$(jnum peak_reconnects_100ms)" \
	"max_reconnect_ms=$(jnum max_reconnect_ms) logins=$(jnum logins)" \
	"login_failures=$(jnum login_failures) registered=$(jnum registered)" \
	"max_login_ms=$(jnum max_login_ms)"

e2e_done
