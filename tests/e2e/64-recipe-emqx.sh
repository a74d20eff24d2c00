#!/usr/bin/env bash
# 64-recipe-emqx: the EMQX hot-upgrade recipe (contrib/recipes/emqx). EMQX
# is not in Debian, so its nodes are stand-ins (tests/e2e/standins/emqx):
# the same `emqx ctl status` / `relup list-supported-paths` / `relup
# upgrade` / `relup status` commands, checks and outputs as the guide's,
# each node's listener a real TCP server that stays up through the hot
# upgrade. A real HAProxy in TCP mode is in front with 150 long-lived
# clients. Checked: --dry-run against the live HAProxy; the hook refuses a
# non-patch target; a hot upgrade of three nodes in place (never drained,
# not one client disconnected, each node verified before the next); and a
# tarball whose sha256 does not match on the second node, which stops the
# run there (that node out of rotation, its clients still connected, the
# third node untouched).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/recipes-lib.sh"
e2e_init 64-recipe-emqx

STANDINS=$E2E_LIB_DIR/standins
HOOK=$RECIPES/emqx/emqx-node.sh
export EMQX_STANDIN=$T/emqx STANDIN_PIDS=$T/pids STANDIN_TOOLS=$TOOLS
mkdir -p "$EMQX_STANDIN"
printf '%s\n' "5.10.4 -> 5.10.5" "5.10.5 -> 5.10.6" >"$EMQX_STANDIN/supported-paths"
specs=()
for n in emqx1 emqx2 emqx3; do
	d=$EMQX_STANDIN/$n
	mkdir -p "$d/data/patches"
	free_port >"$d/port"
	echo 5.10.4 >"$d/version"
	# The node's listener: a real TCP server; the hot upgrade leaves it be.
	( . "$STANDINS/standin-lib.sh"
	  standin_listen "$d/pid" "$(cat "$d/port")" mqtt "emqx $n" --tcp ) ||
		e2e_bail "stand-in node $n did not start"
	specs+=("$n=$(cat "$d/port")")
done

# release VERSION: a release tarball per node, with its .sha256.
release() {
	local n dir=$T/rel/$1
	mkdir -p "$dir/releases"
	printf 'REL_VSN="%s"\nERTS_VSN="13.2"\n' "$1" >"$dir/releases/emqx_vars"
	for n in emqx1 emqx2 emqx3; do
		mkdir -p "$T/rel/$n"
		tar -czf "$T/rel/$n/emqx-$1.tar.gz" -C "$dir" releases
		(cd "$T/rel/$n" && sha256sum "emqx-$1.tar.gz" >"emqx-$1.tar.gz.sha256")
	done
}
release 5.10.5
release 5.10.6

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
	frontend mqtt_in
	    bind 127.0.0.1:$fe
	    default_backend mqtt
	backend mqtt
	    balance leastconn
	CFG
	for s in "${specs[@]}"; do
		echo "    server ${s%%=*} 127.0.0.1:${s#*=} check inter 200ms"
	done
} >"$T/lb1.cfg"
start_lb_cfg lb1 "$T/lb1.cfg"
wait_lb_up lb1 mqtt
bg_run clients "$TOOLS/tcpclients" --port "$fe" --clients 150 \
	--until-file "$T/stop" --report "$T/clients.report"
total() { echo $(($(srv_scur lb1 mqtt/emqx1) + $(srv_scur lb1 mqtt/emqx2) + $(srv_scur lb1 mqtt/emqx3))); }
wait_for "150 clients connected" 20 output_is 150 total

recipe_plan emqx plan.yaml "$T/plan.yaml" "$T/lb1.sock"
recipe_sed "$T/plan.yaml" '^  pause: 30s ' '  pause: 200ms '
recipe_sed "$T/plan.yaml" '^  rise: 3' '  rise: 2'
recipe_sed "$T/plan.yaml" '^  interval: 2s' '  interval: 100ms'
recipe_sed "$T/plan.yaml" '^  deadline: 5m' '  deadline: 10s'
recipe_sed "$T/plan.yaml" '^  for: 2m ' '  for: 1s '

export EMQX="$STANDINS/emqx" EMQX_ON_NODE="env EMQX_NODE=%s"
export EMQX_TARBALL="$T/rel/%s/emqx-5.10.5.tar.gz" EMQX_TARGET_VERSION=5.10.5

assert_rc "--dry-run against the live HAProxy" 0 \
	"$CUTOVER" rollout "$T/plan.yaml" --dry-run
assert_match "dry run: in place, the hook per node" \
	"in-place.*emqx-node.sh upgrade emqx1" "$(tr '\n' ' ' <<<"$OUT")"

EMQX_TARGET_VERSION=5.11.0 assert_rc "the hook refuses a minor version" 1 \
	"$HOOK" upgrade emqx1
assert_match "and says so" "a hot upgrade to 5.11.0 is not a patch upgrade" "$ERR"

assert_rc "hot upgrade of three nodes" 0 "$CUTOVER" rollout "$T/plan.yaml" --yes
flat=$(tr '\n' ' ' <<<"$OUT")
assert_match "summary" "rollout done: 3 servers upgraded" "$OUT"
assert_eq "never drained" "" "$(grep -o 'draining' <<<"$OUT" || true)"
for n in emqx1 emqx2 emqx3; do
	assert_match "$n: sha256 checked, upgraded, verified" \
		"mqtt/$n \\[upgrade\\] $n: 5.10.4 -> 5.10.5, tarball sha256 ok .*upgraded emqx@$n from 5.10.4 to 5.10.5.*mqtt/$n: upgrading -> probing .*mqtt/$n: probing -> watching" "$flat"
	assert_match "$n: relup status" "current: 5.10.5" \
		"$(EMQX_NODE=$n "$STANDINS/emqx" ctl relup status)"
done
assert_match "each node verified before the next" \
	"mqtt/emqx1: watching -> done .*mqtt/emqx2: pending -> upgrading .*mqtt/emqx2: watching -> done .*mqtt/emqx3: pending -> upgrading" "$flat"
assert_eq "150 clients still connected" 150 "$(total)"

# A corrupt tarball on the second node stops the run there.
export EMQX_TARBALL="$T/rel/%s/emqx-5.10.6.tar.gz" EMQX_TARGET_VERSION=5.10.6
echo garbage >>"$T/rel/emqx2/emqx-5.10.6.tar.gz"
assert_rc "a bad tarball stops the run" 1 "$CUTOVER" rollout "$T/plan.yaml" --yes
assert_match "emqx2's hook refused it" \
	"mqtt/emqx2 \\[upgrade\\] ! upgrade: sha256 of .*emqx-5.10.6.tar.gz is [0-9a-f]+, expected [0-9a-f]+" "$OUT"
assert_match "on_failure printed the node's state" \
	"mqtt/emqx2 \\[on_failure\\] current: 5.10.5" "$OUT"
assert_eq "emqx1 upgraded, in service" "ready 5.10.6" \
	"$(srv_admin lb1 mqtt/emqx1) $(cat "$EMQX_STANDIN/emqx1/version")"
assert_eq "emqx2 out of rotation, not upgraded" "maint 5.10.5" \
	"$(srv_admin lb1 mqtt/emqx2) $(cat "$EMQX_STANDIN/emqx2/version")"
assert_eq "emqx3 untouched" "ready 5.10.5" \
	"$(srv_admin lb1 mqtt/emqx3) $(cat "$EMQX_STANDIN/emqx3/version")"
assert_eq "150 clients still connected" 150 "$(total)"

touch "$T/stop"
bg_wait clients 20
report=$(cat "$T/clients.report")
echo "# clients: $report"
assert_match "not one client disconnected" " disconnects=0 reconnects=0 lost=0 " "$report"

e2e_done
