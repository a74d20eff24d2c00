#!/usr/bin/env bash
# 44-rollout-verify-watch: what decides that an upgraded server is good,
# behind two HAProxy instances (unix and TCP sockets):
#   - probe { http, haproxy: true }: a verified comeback; after the run every
#     server is ready and UP, with a passed HAProxy check, on every LB;
#   - the same when HAProxy's own check never passes (the new version's
#     /health answers 503), probe.deadline 2s: exit 1, the server stays in
#     maint (not ready, not drain) on every LB;
#   - watch { for: 3s, max_5xx: 0 } under load (tests/tools/loadgen through
#     both LBs) when the new version answers 500 on /: exit 1, that server
#     ends in maint on every LB, the next servers are untouched.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 44-rollout-verify-watch

ALL="web1 web2 web3 web4"
for s in $ALL; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3" "web4=$PORT_web4")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")
HOOK=$E2E_LIB_DIR/hooks/restart-backend.sh

version() {
	local v=PORT_$1
	curl -s --max-time 5 "http://127.0.0.1:${!v}/version"
}
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
on_all_lbs() {
	local lb
	for lb in lb1 lb2; do
		assert_eq "$1 on $lb" "$2" "$($3 "$lb" "app/$4")"
	done
}
# shellcheck disable=SC2317  # called through on_all_lbs
# check_status LB BE/SRV: HAProxy's last check result (L7OK, L7STS, ...),
# without the "* " HAProxy puts before it while the next check runs.
check_status() {
	local v
	v=$(_e2e_stat_field "$1" "${2%%/*}" "${2#*/}" check_status)
	echo "${v#\* }"
}

# plan FILE SERVERS VERSION HAPROXY DEADLINE WATCH [BACKEND ARGS...]
plan() {
	local f=$1 servers=$2 v=$3 hap=$4 deadline=$5 watch=$6
	shift 6
	cat >"$f" <<PLAN
backend: app
servers: $servers
rolling: { batch: 1, min_serving: 2 }
drain: { timeout: 10s }
hooks:
  timeout: 20s
  upgrade: [bash, $HOOK, $T, $TOOLS, "{server}", "{port}", $v$(printf ', %s' "$@")]
probe:
  http: { url: "http://{addr}:{port}/version", expect: 200, body: $v }
  haproxy: $hap
  interval: 100ms
  timeout: 1s
  deadline: $deadline
watch: $watch
PLAN
}

# ---- verified comeback -------------------------------------------------------
plan "$T/verified.yaml" all v2 true 20s "{ for: 0 }" --quiet
assert_rc "verified comeback: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/verified.yaml" --yes
assert_match "verified comeback: summary" "rollout done: 4 servers upgraded" "$OUT"
for s in $ALL; do
	on_all_lbs "verified: $s ready" ready srv_admin "$s"
	on_all_lbs "verified: $s UP" UP srv_status "$s"
	on_all_lbs "verified: $s passed HAProxy's check" L7OK check_status "$s"
	assert_eq "verified: $s runs v2" v2 "$(version "$s")"
done

# ---- HAProxy's check never passes ----------------------------------------
touch "$T/health-fails"
plan "$T/unhealthy.yaml" "[web1]" v3 true 2s "{ for: 0 }" --fail-file "$T/health-fails"
assert_rc "HAProxy check never passes: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/unhealthy.yaml" --yes
assert_match "HAProxy check never passes: says so" \
	"app/web1 failed: .*HAProxy's health check did not pass on every LB" "$OUT"
assert_match "HAProxy check never passes: the http probe had passed" \
	"app/web1: probing -> enabling" "$OUT"
on_all_lbs "HAProxy check never passes: web1 in maint" maint srv_admin web1
assert_eq "HAProxy check never passes: web1 runs v3 (its /health fails)" v3 "$(version web1)"
for s in web2 web3 web4; do
	on_all_lbs "HAProxy check never passes: $s untouched" ready srv_admin "$s"
done

# ---- watch breach under load -------------------------------------------------
declare -A PID
for s in web3 web4; do PID[$s]=$(cat "$T/be-$s.pid"); done
stop=$T/stop-load
for lb in lb1 lb2; do
	v=FEPORT_$lb
	bg_run "load_$lb" "$TOOLS/loadgen" --url "http://127.0.0.1:${!v}/" \
		--clients 4 --rate 300 --until-file "$stop" --report "$T/load-$lb"
done
plan "$T/watch.yaml" "[web2, web3, web4]" v4 false 10s \
	"{ for: 3s, interval: 200ms, max_5xx: 0 }" --quiet --status-code 500
assert_rc "watch breach: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/watch.yaml" --yes
ROLL_OUT=$OUT
touch "$stop"
for lb in lb1 lb2; do bg_wait "load_$lb" 30; done
OUT=$ROLL_OUT
assert_match "watch breach: names the 5xx and the limit" \
	"app/web2 failed: .*watch: [0-9]+ 5xx responses \\(limit 0\\)" "$OUT"
assert_match "watch breach: web2 was watched, then failed" \
	"app/web2: enabling -> watching .*app/web2: watching -> failing" "$(tr '\n' ' ' <<<"$OUT")"
assert_match "watch breach: summary table" \
	"app/web2 +FAILED, out of rotation \\(maint\\).*app/web3 +untouched.*app/web4 +untouched" \
	"$(tr '\n' ' ' <<<"$OUT")"
assert_match "the load did meet the broken version (5xx counted)" \
	"http5xx=[1-9]" "$(cat "$T/load-lb1" "$T/load-lb2")"
on_all_lbs "watch breach: web2 in maint" maint srv_admin web2
assert_eq "watch breach: web2 runs the broken v4" v4 "$(version web2)"
for s in web3 web4; do
	on_all_lbs "watch breach: $s untouched: ready" ready srv_admin "$s"
	on_all_lbs "watch breach: $s untouched: UP" UP srv_status "$s"
	assert_eq "watch breach: $s untouched: still v2" v2 "$(version "$s")"
	assert_eq "watch breach: $s untouched: same process" "${PID[$s]}" "$(cat "$T/be-$s.pid")"
	if alive "${PID[$s]}"; then
		ok "watch breach: $s process still runs"
	else
		not_ok "watch breach: $s process still runs"
	fi
done
on_all_lbs "watch breach: web1 still in maint" maint srv_admin web1

e2e_done
