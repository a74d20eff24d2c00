#!/usr/bin/env bash
# 42-rollout-drain-deadline: what `cutover rollout` does when a server still
# has a session at drain.timeout, for each drain.on_timeout policy. A long
# request (GET /slow?ms=4000 through lb1's frontend) is held on one server;
# the plan rolls that server with drain.timeout 500ms:
#   fail    -> exit 1; the server is back to ready on every LB, NOT
#              upgraded (same process), the held request still completes
#              with 200, nothing else changed on any LB;
#   proceed -> the run goes on with the session open and completes (exit 0);
#   kill    -> the held request is cut, the run completes (exit 0).
# States are read through the harness readers on both LBs.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 42-rollout-drain-deadline

ALL="web1 web2 web3"
for s in $ALL; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")
HOOK=$E2E_LIB_DIR/hooks/restart-backend.sh

states() {
	local lb
	for lb in lb1 lb2; do
		lb_cmd "$lb" "show servers state" |
			awk -v lb="$lb" 'NF > 8 && $1 !~ /^#/ { print lb, $2 "/" $4, $6, $7, $8 }'
	done
}
version() {
	local v=PORT_$1
	curl -s --max-time 5 "http://127.0.0.1:${!v}/version"
}
# wait_eq DESC EXPECTED TIMEOUT_S CMD...: bounded poll, then assert.
wait_eq() {
	local desc=$1 want=$2 got deadline
	deadline=$(($(now_ms) + $(_e2e_ms "$3")))
	shift 3
	while got=$("$@" 2>/dev/null) || true; [ "$got" != "$want" ]; do
		[ "$(now_ms)" -ge "$deadline" ] && break
		sleep 0.05
	done
	assert_eq "$desc" "$want" "$got"
}
on_all_lbs() {
	local lb
	for lb in lb1 lb2; do
		assert_eq "$1 on $lb" "$2" "$($3 "$lb" "app/$4")"
	done
}
# others_untouched SERVER PIDS: every server but SERVER still runs the
# process recorded in PIDS ("web1=123 ..."), ready on every LB.
others_untouched() {
	local s p
	for s in $ALL; do
		[ "$s" = "$1" ] && continue
		p=$(sed -n "s/.*$s=\\([0-9]*\\).*/\\1/p" <<<"$2")
		on_all_lbs "$3: $s untouched: ready" ready srv_admin "$s"
		assert_eq "$3: $s untouched: same process" "$p" "$(cat "$T/be-$s.pid")"
	done
}
pids() {
	local s
	for s in $ALL; do printf '%s=%s ' "$s" "$(cat "$T/be-$s.pid")"; done
}

# hold NAME: GET /slow?ms=4000 through lb1 in the background (bg NAME);
# sets HELD to the server it landed on (scur 1 on lb1).
hold() {
	local s deadline fe=FEPORT_lb1
	bg_run "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
		"http://127.0.0.1:${!fe}/slow?ms=4000"
	HELD=
	deadline=$(($(now_ms) + $(_e2e_ms 10)))
	while [ -z "$HELD" ]; do
		for s in $ALL; do
			[ "$(srv_scur lb1 "app/$s" 2>/dev/null)" = 1 ] && HELD=$s
		done
		[ -n "$HELD" ] && break
		[ "$(now_ms)" -ge "$deadline" ] &&
			e2e_bail "$1: no server got the held request"
		sleep 0.05
	done
	echo "# $1: the held request is on $HELD"
}

# plan FILE POLICY SERVER VERSION
plan() {
	cat >"$1" <<PLAN
backend: app
servers: [$3]
rolling: { batch: 1, min_serving: 1 }
drain: { timeout: 500ms, on_timeout: $2 }
hooks:
  timeout: 20s
  upgrade: [bash, $HOOK, $T, $TOOLS, "{server}", "{port}", $4]
probe:
  http: { url: "http://{addr}:{port}/version", expect: 200, body: $4 }
  interval: 100ms
  timeout: 1s
  deadline: 10s
PLAN
}

# ---- fail ------------------------------------------------------------------
hold held_fail
target=$HELD
before=$(states)
pids_before=$(pids)
plan "$T/fail.yaml" fail "$target" v-fail
assert_rc "fail: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/fail.yaml" --yes
assert_match "fail: says the drain deadline passed" \
	"app/$target: wait_idle -> restoring - .*drain deadline passed \\(on_timeout: fail\\)" "$OUT"
assert_match "fail: summary says NOT upgraded, back in service" \
	"app/$target +NOT upgraded, back in service" "$OUT"
assert_match "fail: the run FAILED, left safe" "rollout FAILED, left safe" "$OUT"
assert_eq "fail: the upgrade hook did not run" "" "$(grep -F "[upgrade]" <<<"$OUT" || true)"
on_all_lbs "fail: $target back to ready" ready srv_admin "$target"
on_all_lbs "fail: $target weight as before" 1 srv_weight "$target"
assert_eq "fail: $target not upgraded (same process)" \
	"$(sed -n "s/.*$target=\\([0-9]*\\).*/\\1/p" <<<"$pids_before")" "$(cat "$T/be-$target.pid")"
assert_eq "fail: $target still v1" v1 "$(version "$target")"
bg_wait held_fail 15
assert_eq "fail: the held request completed with 200" 200 "$OUT"
assert_eq "fail: nothing else changed on any LB" "$before" "$(states)"
others_untouched "$target" "$pids_before" fail

# ---- proceed ----------------------------------------------------------------
hold held_proceed
target=$HELD
pids_before=$(pids)
plan "$T/proceed.yaml" proceed "$target" v-proceed
assert_rc "proceed: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/proceed.yaml" --yes
assert_match "proceed: says it proceeds as planned" \
	"drain deadline passed; proceeding as planned \\(on_timeout: proceed\\)" "$OUT"
assert_match "proceed: summary" "rollout done: 1 server upgraded" "$OUT"
on_all_lbs "proceed: $target ready" ready srv_admin "$target"
for lb in lb1 lb2; do
	wait_eq "proceed: $target UP on $lb" UP 10 srv_status "$lb" "app/$target"
done
assert_eq "proceed: $target runs the new version" v-proceed "$(version "$target")"
bg_wait held_proceed 15
assert_eq "proceed: the held request was left to finish (200)" 200 "$OUT"
others_untouched "$target" "$pids_before" proceed

# ---- kill -------------------------------------------------------------------
hold held_kill
target=$HELD
pids_before=$(pids)
plan "$T/kill.yaml" kill "$target" v-kill
assert_rc "kill: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/kill.yaml" --yes
assert_match "kill: says it closes the remaining sessions" \
	"drain deadline passed; closing the remaining sessions \\(on_timeout: kill\\)" "$OUT"
assert_match "kill: went through killing" "app/$target: wait_idle -> killing" "$OUT"
assert_match "kill: summary" "rollout done: 1 server upgraded" "$OUT"
bg_wait held_kill 15
if [ "$OUT" != 200 ]; then
	ok "kill: the held request was cut (curl exit $RC, http '$OUT')"
else
	not_ok "kill: the held request was cut" "it completed with 200"
fi
on_all_lbs "kill: $target ready" ready srv_admin "$target"
for lb in lb1 lb2; do
	wait_eq "kill: $target UP on $lb" UP 10 srv_status "$lb" "app/$target"
done
assert_eq "kill: $target runs the new version" v-kill "$(version "$target")"
others_untouched "$target" "$pids_before" kill

e2e_done
