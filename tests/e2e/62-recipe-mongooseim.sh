#!/usr/bin/env bash
# 62-recipe-mongooseim: the MongooseIM rolling-upgrade recipe
# (contrib/recipes/mongooseim/plan.yaml). MongooseIM is not in Debian, so
# its nodes are stand-ins (tests/e2e/standins/mongooseimctl): the same
# commands, output lines ("running db nodes = [...]") and exit codes as
# the guide's, each node's listener a real TCP server that reports the
# installed version. A real HAProxy in TCP mode is in front, with 90
# long-lived clients that reconnect when cut. Checked: --dry-run against
# the live HAProxy; the capacity rule (min_serving must leave the traffic's
# nodes in service); a rolling upgrade of three nodes (cluster checked
# before each node, stop, install, start, node and cluster checked before
# it gets traffic; clients moved at a pace, none lost, every one on the new
# version at the end); an incomplete cluster, which stops the run before
# any node is touched; and a node that does not rejoin the cluster, which
# stops the run there, out of rotation, with the next node untouched.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/recipes-lib.sh"
e2e_init 62-recipe-mongooseim

STANDINS=$E2E_LIB_DIR/standins
export MIM_STANDIN=$T/mim STANDIN_PIDS=$T/pids STANDIN_TOOLS=$TOOLS
mkdir -p "$MIM_STANDIN"
specs=()
for n in mim1 mim2 mim3; do
	mkdir -p "$MIM_STANDIN/$n"
	free_port >"$MIM_STANDIN/$n/port"
	echo 6.2.0 >"$MIM_STANDIN/$n/version"
	echo mim >"$MIM_STANDIN/$n/cluster"
	MIM_NODE=$n "$STANDINS/mongooseimctl" start ||
		e2e_bail "stand-in node $n did not start"
	specs+=("$n=$(cat "$MIM_STANDIN/$n/port")")
done
assert_match "stand-in: running db nodes" \
	'running db nodes   = \[mongooseim@mim1,mongooseim@mim2,mongooseim@mim3\]' \
	"$(MIM_NODE=mim2 "$STANDINS/mongooseimctl" mnesia info)"

fe=$(free_port)
{
	cat <<-CFG
	global
	    maxconn 2000
	    stats socket $T/lb1.sock level admin
	defaults
	    mode tcp
	    timeout connect 1s
	    timeout client 5m
	    timeout server 5m
	frontend xmpp_in
	    bind 127.0.0.1:$fe
	    default_backend xmpp
	backend xmpp
	    balance leastconn
	CFG
	for s in "${specs[@]}"; do
		echo "    server ${s%%=*} 127.0.0.1:${s#*=} check inter 200ms"
	done
} >"$T/lb1.cfg"
start_lb_cfg lb1 "$T/lb1.cfg"
wait_lb_up lb1 xmpp
bg_run clients "$TOOLS/tcpclients" --port "$fe" --clients 90 \
	--until-file "$T/stop" --report "$T/clients.report"
total() { echo $(($(srv_scur lb1 xmpp/mim1) + $(srv_scur lb1 xmpp/mim2) + $(srv_scur lb1 xmpp/mim3))); }
wait_for "90 clients connected" 20 output_is 90 total

recipe_plan mongooseim plan.yaml "$T/plan.yaml" "$T/lb1.sock"
recipe_sed "$T/plan.yaml" '^  timeout: 2m ' '  timeout: 300ms '
recipe_sed "$T/plan.yaml" '^  shed_rate: 20/s ' '  shed_rate: 100/s '
recipe_sed "$T/plan.yaml" '^  interval: 2s' '  interval: 100ms'
recipe_sed "$T/plan.yaml" '^  deadline: 10m' '  deadline: 5s'
recipe_sed "$T/plan.yaml" '^  for: 1m' '  for: 1s'

export MONGOOSEIMCTL="env MIM_NODE=%s $STANDINS/mongooseimctl"
export MONGOOSEIM_NODES="mongooseim@mim1 mongooseim@mim2 mongooseim@mim3"
export MONGOOSEIM_INSTALL="env MIM_NODE=%s $STANDINS/mim-install 6.2.1"
export MONGOOSEIM_EXPECT_VERSION=6.2.1 MONGOOSEIM_WAIT=10

assert_rc "--dry-run against the live HAProxy" 0 \
	"$CUTOVER" rollout "$T/plan.yaml" --dry-run
assert_match "dry run: the hooks in order" \
	"mongooseim-node.sh cluster mim1.*mongooseim-node.sh stop mim1.*mongooseim-node.sh install mim1.*mongooseim-node.sh start mim1" \
	"$(tr '\n' ' ' <<<"$OUT")"
assert_eq "dry run changed nothing" ready "$(srv_admin lb1 xmpp/mim1)"

sed 's/^  min_serving: 2 /  min_serving: 3 /' "$T/plan.yaml" >"$T/plan-3.yaml"
assert_rc "the traffic's nodes plus one: min_serving 3 of 3 is refused" 1 \
	"$CUTOVER" rollout "$T/plan-3.yaml" --yes
assert_match "and says why" "min_serving 3: only 2 servers would stay in service" "$OUT$ERR"
assert_eq "no node was touched" "6.2.0" "$(cat "$MIM_STANDIN/mim1/version")"

assert_rc "the recipe upgrades three nodes" 0 "$CUTOVER" rollout "$T/plan.yaml" --yes
flat=$(tr '\n' ' ' <<<"$OUT")
assert_match "summary" "rollout done: 3 servers upgraded" "$OUT"
for n in mim1 mim2 mim3; do
	assert_match "$n: the cluster checked first" \
		"xmpp/$n \\[before_drain\\] running db nodes = \\[mongooseim@mim1,mongooseim@mim2,mongooseim@mim3\\].*xmpp/$n: .*-> draining" "$flat"
	assert_match "$n: stopped, installed, started" \
		"xmpp/$n \\[upgrade\\] stopping mongooseim@$n .*mongooseim 6.2.1 installed on $n .*starting mongooseim@$n .*MongooseIM version 6.2.1 is running" "$flat"
	assert_match "$n: checked before traffic" "xmpp/$n: upgrading -> probing .*xmpp/$n: probing -> enabling" "$flat"
	assert_match "$n runs 6.2.1" "MongooseIM version 6.2.1" \
		"$(MIM_NODE=$n "$STANDINS/mongooseimctl" status)"
done
wait_for "90 clients connected again" 20 output_is 90 total

export MONGOOSEIM_INSTALL="env MIM_NODE=%s $STANDINS/mim-install 6.2.2"
export MONGOOSEIM_EXPECT_VERSION=6.2.2

# An incomplete cluster: nothing is touched.
touch "$MIM_STANDIN/mim2/outside"
assert_rc "an incomplete cluster stops the run before any node" 1 \
	"$CUTOVER" rollout "$T/plan.yaml" --yes
assert_match "mim1's cluster check says what is missing" \
	"xmpp/mim1 \\[before_drain\\] .*the cluster is not complete: running db nodes on mongooseim@mim1: \\[mongooseim@mim1,mongooseim@mim3\\]; missing: mongooseim@mim2" "$OUT"
for n in mim1 mim2 mim3; do
	assert_eq "$n untouched" "ready 6.2.1" \
		"$(srv_admin lb1 "xmpp/$n") $(cat "$MIM_STANDIN/$n/version")"
done
rm "$MIM_STANDIN/mim2/outside"

# A node that comes back outside the cluster stops the run there.
touch "$MIM_STANDIN/mim2/rejoin-fails"
assert_rc "a node that does not rejoin fails the run" 1 \
	"$CUTOVER" rollout "$T/plan.yaml" --yes
assert_match "mim2 failed its check, which says why" "xmpp/mim2: probing -> failing - probing: not healthy before the probe deadline: exec exit 1: check: the cluster is not complete: running db nodes on mongooseim@mim2: \\[mongooseim@mim2\\]; missing: mongooseim@mim1 mongooseim@mim3" \
	"$(tr '\n' ' ' <<<"$OUT$ERR")"
assert_eq "mim1 upgraded, in service" "ready 6.2.2" \
	"$(srv_admin lb1 xmpp/mim1) $(cat "$MIM_STANDIN/mim1/version")"
assert_eq "mim2 out of rotation" maint "$(srv_admin lb1 xmpp/mim2)"
assert_eq "mim3 untouched" "ready 6.2.1" \
	"$(srv_admin lb1 xmpp/mim3) $(cat "$MIM_STANDIN/mim3/version")"

touch "$T/stop"
bg_wait clients 20
report=$(cat "$T/clients.report")
echo "# clients: $report"
assert_match "no client lost" " lost=0 " "$report"
assert_match "every client on a running node" "versions=6.2.[12]:[0-9]+" "$report"

e2e_done
