#!/usr/bin/env bash
# 30-manual: the manual commands on two LBs: maint, undrain --wait-up
# (returns only once every LB reports UP after a real check), weight
# absolute and %, a bare server name acting on every backend that has it,
# status --json parsed and checked, disagreements shown, CUTOVER_LB,
# status --watch.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 30-manual

start_backend b1 v1
start_backend b2 v2
LB_SERVER_OPTS="weight 10"
start_lb lb1 "s1=$PORT_b1" "s2=$PORT_b2"
start_lb lb2 "s1=$PORT_b1" "s2=$PORT_b2"
wait_lb_up lb1
wait_lb_up lb2
export CUTOVER_LB="unix:$(lb_sock lb1),tcp:$(lb_sock lb2 tcp)"

assert_rc "maint (LBs from CUTOVER_LB)" 0 "$CUTOVER" maint app/s1
assert_eq "maint on lb1" maint "$(srv_admin lb1 app/s1)"
assert_eq "maint on lb2" maint "$(srv_admin lb2 app/s1)"
assert_eq "checks paused in maint" MAINT "$(srv_status lb1 app/s1)"

assert_rc "undrain --wait-up" 0 "$CUTOVER" undrain app/s1 --wait-up --timeout 20s
assert_match "undrain --wait-up reports up" "app/s1: up after" "$OUT"
assert_eq "ready on lb1" ready "$(srv_admin lb1 app/s1)"
assert_eq "ready on lb2" ready "$(srv_admin lb2 app/s1)"
assert_eq "UP with a passed check on lb1" UP "$(srv_status lb1 app/s1)"
assert_eq "UP with a passed check on lb2" UP "$(srv_status lb2 app/s1)"

# A server whose backend is dead never comes up: exit 4, state stays.
stop_backend b2
wait_for "s2 DOWN on lb1" 10 output_is DOWN srv_status lb1 app/s2
assert_rc "maint s2" 0 "$CUTOVER" maint app/s2
assert_rc "undrain --wait-up on a dead server times out" 4 \
	"$CUTOVER" undrain app/s2 --wait-up --timeout 1s
assert_match "and says it is not up" "app/s2: NOT up after" "$OUT"
assert_eq "the undrain itself is kept (ready)" ready "$(srv_admin lb1 app/s2)"
start_backend b2 v2b
lb_cmd lb1 "set server app/s2 addr 127.0.0.1 port $PORT_b2" >/dev/null
lb_cmd lb2 "set server app/s2 addr 127.0.0.1 port $PORT_b2" >/dev/null
assert_rc "wait --until up once its backend is back" 0 \
	"$CUTOVER" wait app/s2 --until up --timeout 20s

assert_rc "weight absolute" 0 "$CUTOVER" weight app/s1 5
assert_eq "weight 5 on lb1" 5 "$(srv_weight lb1 app/s1)"
assert_eq "weight 5 on lb2" 5 "$(srv_weight lb2 app/s1)"
assert_rc "weight percent of the configured weight" 0 "$CUTOVER" weight app/s1 50%
assert_eq "50% of 10 on lb1" 5 "$(srv_weight lb1 app/s1)"
assert_rc "weight 100%" 0 "$CUTOVER" weight app/s1 100%
assert_eq "back to 10 on lb2" 10 "$(srv_weight lb2 app/s1)"

# A bare server name means every backend that has it: app and other.
assert_rc "drain bare name" 0 "$CUTOVER" drain s1
assert_match "both backends named" "app/s1: drained.*other/s1: drained" "$(echo $OUT)"
for lb in lb1 lb2; do
	assert_eq "app/s1 drained on $lb" drain "$(srv_admin $lb app/s1)"
	assert_eq "other/s1 drained on $lb" drain "$(srv_admin $lb other/s1)"
done
assert_eq "s2 untouched" ready "$(srv_admin lb1 app/s2)"

# Drain leaves a server in maint in maint (drain would take it out).
assert_rc "maint s2" 0 "$CUTOVER" maint app/s2
assert_rc "drain a server in maint" 0 "$CUTOVER" drain app/s2
assert_eq "still maint" maint "$(srv_admin lb1 app/s2)"
assert_rc "undrain s1 and s2" 0 "$CUTOVER" undrain s1 app/s2 --wait-up --timeout 20s

# status --json, with a session held on s1 through lb2.
bg_run slow curl -s -o /dev/null "http://127.0.0.1:$FEPORT_lb2/slow?ms=1500"
bg_run slow2 curl -s -o /dev/null "http://127.0.0.1:$FEPORT_lb2/slow?ms=1500"
wait_for "a session on s1 via lb2" 5 output_is 1 srv_scur lb2 app/s1
lb_cmd lb1 "set server app/s2 state drain" >/dev/null	# a disagreement
assert_rc "status --json" 0 "$CUTOVER" status --json
echo "$OUT" >"$T/status.json"
assert_eq "valid JSON, two LBs reachable" "true true" \
	"$(jq -r '[.load_balancers[].reachable] | map(tostring) | join(" ")' "$T/status.json")"
assert_eq "three servers" 3 "$(jq '.servers | length' "$T/status.json")"
assert_eq "app/s1 total sessions" 1 \
	"$(jq '.servers[] | select(.backend=="app" and .server=="s1") | .sessions' "$T/status.json")"
assert_eq "app/s1 sessions per LB" "0 1" \
	"$(jq -r '.servers[] | select(.backend=="app" and .server=="s1") | [.per_lb[].sessions] | map(tostring) | join(" ")' "$T/status.json")"
assert_eq "app/s2 admin is mixed" mixed \
	"$(jq -r '.servers[] | select(.backend=="app" and .server=="s2") | .admin' "$T/status.json")"
assert_eq "app/s2 not consistent" false \
	"$(jq -r '.servers[] | select(.backend=="app" and .server=="s2") | .consistent' "$T/status.json")"
assert_eq "app/s2 per-LB admin" "drain ready" \
	"$(jq -r '.servers[] | select(.backend=="app" and .server=="s2") | [.per_lb[].admin] | join(" ")' "$T/status.json")"
assert_eq "weights in JSON" 10 \
	"$(jq '.servers[] | select(.backend=="app" and .server=="s1") | .per_lb[1].uweight' "$T/status.json")"

assert_rc "status text" 0 "$CUTOVER" status app
assert_match "text shows the disagreement" "disagree on 1 server" "$OUT"
assert_match "text names who says what" "app/s2: lb1 drain/up \\(DRAIN\\); lb2 ready/up \\(UP\\)" "$OUT"
assert_rc "status of one server" 0 "$CUTOVER" status app/s1
assert_eq "only that server listed" 1 "$(grep -c '^app/' <<<"$OUT")"
assert_rc "status of an unknown name: exit 2" 2 "$CUTOVER" status nope

# --watch: refreshes until interrupted, then exits 0.
bg_run watch "$CUTOVER" status app --watch --interval 200ms
# Interrupt once it has drawn twice, not after a fixed time: a background
# job starts with SIGINT ignored until cutover installs its handler, and a
# slow start (valgrind) would lose a signal sent before that.
refreshes() {
	[ "$(grep -c '^BACKEND/SERVER' "$T/bg-watch.out")" -ge 2 ]
}
wait_for "watch drew twice" 10 refreshes
kill -INT "$BGPID_watch"
bg_wait watch 5
assert_eq "watch exits 0 on SIGINT" 0 "$RC"
n=$(grep -c "^BACKEND/SERVER" <<<"$OUT")
if [ "$n" -ge 2 ]; then ok "watch refreshed ($n times)"; else not_ok "watch refreshed only $n times"; fi

bg_wait slow 10
bg_wait slow2 10
e2e_done
