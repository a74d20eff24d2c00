#!/usr/bin/env bash
# 63-recipe-mongooseim-parallel: the MongooseIM parallel-cluster recipe
# (contrib/recipes/mongooseim/bluegreen.yaml). An old cluster (6.1.0) and a
# new one (6.2.1) of stand-in MongooseIM nodes (tests/e2e/standins/
# mongooseimctl; each node's listener a real TCP server reporting its
# version) behind a real HAProxy in TCP mode whose frontend picks the
# backend through a map. 100 long-lived clients that reconnect when cut
# are on the old cluster. cutover switch: --dry-run first, then the new
# cluster is checked (running, its version, every node in "running db
# nodes"), the map entry moves to it, the old cluster's sessions are shed
# at a pace after the drain timeout, and only when it has no connection
# left does retire stop its nodes. At the end every client is on the new
# cluster, none lost, and the old nodes are down.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/recipes-lib.sh"
e2e_init 63-recipe-mongooseim-parallel

STANDINS=$E2E_LIB_DIR/standins
export MIM_STANDIN=$T/mim STANDIN_PIDS=$T/pids STANDIN_TOOLS=$TOOLS
mkdir -p "$MIM_STANDIN"
# node NAME CLUSTER VERSION: a stand-in node, started.
node() {
	mkdir -p "$MIM_STANDIN/$1"
	free_port >"$MIM_STANDIN/$1/port"
	echo "$2" >"$MIM_STANDIN/$1/cluster"
	echo "$3" >"$MIM_STANDIN/$1/version"
	MIM_NODE=$1 "$STANDINS/mongooseimctl" start ||
		e2e_bail "stand-in node $1 did not start"
}
port() { cat "$MIM_STANDIN/$1/port"; }
node old1 blue 6.1.0
node old2 blue 6.1.0
node new1 green 6.2.1
node new2 green 6.2.1

echo "active be_mim_blue" >"$T/xmpp.map"
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
frontend xmpp_in
    bind 127.0.0.1:$fe
    use_backend %[str(active),map($T/xmpp.map,be_mim_blue)]
backend be_mim_blue
    server old1 127.0.0.1:$(port old1) check inter 200ms
    server old2 127.0.0.1:$(port old2) check inter 200ms
backend be_mim_green
    server new1 127.0.0.1:$(port new1) check inter 200ms
    server new2 127.0.0.1:$(port new2) check inter 200ms
CFG
start_lb_cfg lb1 "$T/lb1.cfg"
wait_lb_up lb1 be_mim_blue
wait_lb_up lb1 be_mim_green
bg_run clients "$TOOLS/tcpclients" --port "$fe" --clients 100 \
	--until-file "$T/stop" --report "$T/clients.report"
on() { echo $(($(srv_scur lb1 "$1/$2") + $(srv_scur lb1 "$1/$3"))); }
wait_for "100 clients on the old cluster" 20 output_is 100 on be_mim_blue old1 old2

recipe_plan mongooseim bluegreen.yaml "$T/plan.yaml" "$T/lb1.sock"
recipe_sed "$T/plan.yaml" '^  map: /etc/haproxy/xmpp.map' "  map: $T/xmpp.map"
recipe_sed "$T/plan.yaml" '^  timeout: 30m ' '  timeout: 300ms '
recipe_sed "$T/plan.yaml" '^  shed_rate: 20/s' '  shed_rate: 100/s'
recipe_sed "$T/plan.yaml" '^  interval: 2s' '  interval: 100ms'
recipe_sed "$T/plan.yaml" '^  deadline: 10m' '  deadline: 10s'
recipe_sed "$T/plan.yaml" '^  for: 5m ' '  for: 1s '
recipe_sed "$T/plan.yaml" ', retire, old1, old2, old3\]' ', retire, old1, old2]'

export MONGOOSEIMCTL="env MIM_NODE=%s $STANDINS/mongooseimctl"
export MONGOOSEIM_NODES="mongooseim@new1 mongooseim@new2"
export MONGOOSEIM_EXPECT_VERSION=6.2.1 MONGOOSEIM_WAIT=10

assert_rc "--dry-run against the live HAProxy" 0 \
	"$CUTOVER" switch "$T/plan.yaml" --dry-run
assert_match "dry run: the retire hook" "then retire \\(1 command\\)" "$OUT"
assert_eq "dry run changed nothing" "active be_mim_blue" "$(cat "$T/xmpp.map")"

assert_rc "the switch to the new cluster" 0 "$CUTOVER" switch "$T/plan.yaml" --yes
flat=$(tr '\n' ' ' <<<"$OUT")
assert_match "the old cluster's sessions shed after the drain timeout" \
	"drain_blue -> blue_deadline .*on_timeout: shed.*\\[shed\\] be_mim_blue/old[12]: [0-9]+ closed at" "$flat"
assert_match "then the old cluster retired" \
	"blue_deadline -> retire .*stopping mongooseim@old1 of the old cluster.*stopping mongooseim@old2 of the old cluster.*retire -> done" "$flat"
assert_eq "the map file names the new cluster" "active be_mim_green" "$(cat "$T/xmpp.map")"
for n in old1 old2; do
	assert_rc "$n is down" 3 env MIM_NODE=$n "$STANDINS/mongooseimctl" status
done
assert_rc "the new cluster runs, complete" 0 \
	"$REPO/contrib/recipes/mongooseim/mongooseim-node.sh" check new1
wait_for "100 clients on the new cluster" 20 output_is 100 on be_mim_green new1 new2
touch "$T/stop"
bg_wait clients 20
report=$(cat "$T/clients.report")
echo "# clients: $report"
assert_match "no client lost" " lost=0 " "$report"
assert_match "every client on the new version" "versions=6.2.1:100( |$)" "$report"

e2e_done
