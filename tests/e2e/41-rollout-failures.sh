#!/usr/bin/env bash
# 41-rollout-failures: `cutover rollout` runs that must stop, behind two
# HAProxy instances (one unix, one TCP socket), each checked on EVERY LB
# through the harness readers:
#   - the capacity floor: min_serving refuses the first batch, with the count
#     in the message, and NOTHING changes on any LB (also when an operator
#     took a server out by hand on one LB);
#   - a probe that fails on the 2nd server: web1 is done, web2 ends in
#     maint with the on_failure hook run, web3 and web4 are untouched (their
#     backend processes too), the summary says FAILED and names web2;
#   - an upgrade hook that hangs, ignores SIGTERM and forked a grandchild:
#     hooks.timeout ends it, the whole process group is gone, the server is
#     in maint.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 41-rollout-failures

ALL="web1 web2 web3 web4"
for s in $ALL; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3" "web4=$PORT_web4")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")
HOOK=$E2E_LIB_DIR/hooks/restart-backend.sh

# Operational state, admin state and user weight of every server of every
# backend, per LB (a projection of "show servers state").
states() {
	local lb
	for lb in lb1 lb2; do
		lb_cmd "$lb" "show servers state" |
			awk -v lb="$lb" 'NF > 8 && $1 !~ /^#/ { print lb, $2 "/" $4, $6, $7, $8 }'
	done
}
pids() {
	local s
	for s in $ALL; do printf '%s=%s ' "$s" "$(cat "$T/be-$s.pid")"; done
}
version() {
	local v=PORT_$1
	curl -s --max-time 5 "http://127.0.0.1:${!v}/version"
}
# traces: the files hooks that must not run would have left (ran-*).
traces() {
	local f
	for f in "$T"/ran-*; do [ -e "$f" ] && echo "${f##*/}"; done
	return 0
}
# alive PID: the process exists and is not a zombie.
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
# wait_eq DESC EXPECTED TIMEOUT_S CMD...: polls CMD (bounded) until it
# prints EXPECTED, then asserts on its last output.
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
# on_all_lbs DESC EXPECTED READER SERVER
on_all_lbs() {
	local lb
	for lb in lb1 lb2; do
		assert_eq "$1 on $lb" "$2" "$($3 "$lb" "app/$4")"
	done
}
# untouched SERVER PID: ready with its weight, UP, old version, same process.
untouched() {
	on_all_lbs "$1 untouched: ready" ready srv_admin "$1"
	on_all_lbs "$1 untouched: UP" UP srv_status "$1"
	on_all_lbs "$1 untouched: weight" 1 srv_weight "$1"
	assert_eq "$1 untouched: still v1" v1 "$(version "$1")"
	assert_eq "$1 untouched: same backend process" "$2" "$(cat "$T/be-$1.pid")"
	if alive "$2"; then
		ok "$1 untouched: process $2 still runs"
	else
		not_ok "$1 untouched: process $2 still runs"
	fi
}

# ---- 1. the capacity floor ----------------------------------------------
# plan FILE SERVERS MIN_SERVING: hooks that would leave a trace if run.
floor_plan() {
	cat >"$1" <<PLAN
backend: app
servers: $2
rolling: { batch: 1, min_serving: $3 }
hooks:
  before_drain: [touch, "$T/ran-before_drain-{server}"]
  upgrade: [touch, "$T/ran-upgrade-{server}"]
PLAN
}
before=$(states)
pids_before=$(pids)
floor_plan "$T/floor4.yaml" all 4
assert_rc "min_serving 4 of 4: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/floor4.yaml" --yes
assert_match "min_serving 4: says why, with the count" \
	"min_serving 4: only 3 servers would stay in service while web1 is out \\(in service now: 4\\)" "$OUT"
assert_match "min_serving 4: the run FAILED, left safe" "rollout FAILED, left safe" "$OUT"
assert_match "min_serving 4: every server untouched" \
	"app/web1 +untouched.*app/web2 +untouched.*app/web3 +untouched.*app/web4 +untouched" "$(tr '\n' ' ' <<<"$OUT")"
assert_eq "min_serving 4: no hook ran" "" "$(traces)"
assert_eq "min_serving 4: nothing changed on any LB" "$before" "$(states)"
assert_eq "min_serving 4: no backend restarted" "$pids_before" "$(pids)"

# An operator took web4 out on lb2 only: it counts as out everywhere.
lb_cmd lb2 "set server app/web4 state maint" >/dev/null
before=$(states)
floor_plan "$T/floor3.yaml" "[web1, web2, web3]" 3
assert_rc "min_serving 3, web4 in maint on lb2: exit 1" 1 \
	"$CUTOVER" "${LBS[@]}" rollout "$T/floor3.yaml" --yes
assert_match "min_serving 3: says why, with the count and what is out" \
	"min_serving 3: only 2 servers would stay in service while web1 is out \\(in service now: 3; out: web4 \\(maint" "$OUT"
assert_eq "min_serving 3: no hook ran" "" "$(traces)"
assert_eq "min_serving 3: nothing changed on any LB" "$before" "$(states)"
assert_eq "min_serving 3: no backend restarted" "$pids_before" "$(pids)"
lb_cmd lb2 "set server app/web4 state ready" >/dev/null
wait_lb_up lb2

# ---- 2. the probe fails on the 2nd server ----------------------------------
# Every new version gets --fail-file T/fail-SERVER; only T/fail-web2
# exists, so only web2's /health answers 503.
touch "$T/fail-web2"
cat >"$T/probe.yaml" <<PLAN
backend: app
servers: all
rolling: { batch: 1, min_serving: 2 }
drain: { timeout: 10s, on_timeout: fail }
hooks:
  timeout: 20s
  upgrade: [bash, $HOOK, $T, $TOOLS, "{server}", "{port}", v2, --fail-file, "$T/fail-{server}"]
  on_failure: [sh, -c, 'echo "\$CUTOVER_BACKEND/\$CUTOVER_SERVER \$CUTOVER_STAGE" >>$T/on_failure.log']
probe:
  http: { url: "http://{addr}:{port}/health", expect: 200 }
  interval: 100ms
  timeout: 1s
  deadline: 2s
PLAN
pid3=$(cat "$T/be-web3.pid")
pid4=$(cat "$T/be-web4.pid")
assert_rc "probe fails on web2: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/probe.yaml" --yes
assert_match "summary: FAILED, names web2 and the probe" \
	"rollout FAILED, left safe after [^:]*: app/web2 failed: .*not healthy before the probe deadline" "$OUT"
assert_match "summary table: web1 upgraded" "app/web1 +upgraded, in service" "$OUT"
assert_match "summary table: web2 failed, in maint" "app/web2 +FAILED, out of rotation \\(maint\\)" "$OUT"
assert_match "summary table: web3 untouched" "app/web3 +untouched" "$OUT"
assert_match "summary table: web4 untouched" "app/web4 +untouched" "$OUT"
assert_match "web2 went probing -> failing -> on_failure -> failed" \
	"app/web2: upgrading -> probing .*app/web2: probing -> failing .*app/web2: failing -> on_failure .*app/web2: on_failure -> failed" \
	"$(tr '\n' ' ' <<<"$OUT")"
assert_eq "the on_failure hook ran once, for web2" "app/web2 on_failure" \
	"$(cat "$T/on_failure.log" 2>/dev/null)"
on_all_lbs "web1 done: ready" ready srv_admin web1
for lb in lb1 lb2; do
	wait_eq "web1 done: UP on $lb" UP 10 srv_status "$lb" app/web1
done
assert_eq "web1 done: runs v2" v2 "$(version web1)"
on_all_lbs "web2 failed: maint" maint srv_admin web2
assert_eq "web2 failed: its new version was started" v2 "$(version web2)"
untouched web3 "$pid3"
untouched web4 "$pid4"

# ---- 3. a hook that hangs and forked a grandchild ------------------------
cat >"$T/hang.yaml" <<PLAN
backend: app
servers: [web3]
rolling: { batch: 1, min_serving: 2 }
hooks:
  timeout: 1s
  kill_grace: 500ms
  upgrade: [sh, -c, 'trap "" TERM; sleep 300 & echo \$! >$T/grandchild.pid; echo \$\$ >$T/hook.pid; sleep 300']
PLAN
assert_rc "hanging hook: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/hang.yaml" --yes
hook_pid=$(cat "$T/hook.pid" 2>/dev/null || echo none)
gc_pid=$(cat "$T/grandchild.pid" 2>/dev/null || echo none)
# If they survived, the cleanup must still stop them.
for p in "$hook_pid" "$gc_pid"; do
	[ "$p" = none ] || e2e_track "$p" "hook leftover"
done
assert_match "hanging hook: the hook did start (pids $hook_pid $gc_pid)" \
	"^[0-9]+ [0-9]+$" "$hook_pid $gc_pid"
for p in "hook process:$hook_pid" "grandchild:$gc_pid"; do
	if alive "${p#*:}"; then
		not_ok "hanging hook: ${p%%:*} ${p#*:} is gone" "it still runs"
	else
		ok "hanging hook: ${p%%:*} ${p#*:} is gone"
	fi
done
assert_match "hanging hook: says it timed out and the group was killed" \
	"app/web3 failed: .*upgrade hook 'sh' timed out after 1(\\.0)?s \\(its process group was killed\\)" "$OUT"
on_all_lbs "hanging hook: web3 in maint" maint srv_admin web3
untouched web4 "$pid4"

e2e_done
