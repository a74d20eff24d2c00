#!/usr/bin/env bash
# 65-recipe-mastodon: the Mastodon recipes (contrib/recipes/mastodon). Not
# in Debian, so its processes are stand-ins run through a systemctl
# stand-in (tests/e2e/standins/): web is a puma-like master with forked
# workers serving /health and /api/v1/instance on one socket, SIGUSR1
# (systemctl reload) a phased restart that replaces the workers one by one
# with the new release; streaming holds long-lived connections, answers
# /api/v1/streaming/health, and closes everything when restarted. One real
# HAProxy: HTTP for web (2 hosts), TCP for streaming (2 processes).
# web.yaml under continuous HTTP load: every host reloaded onto the new
# release, every answer of each names it before it gets traffic again, not
# one request failed. streaming.yaml with 200 long-lived clients: each
# process's clients shed at the plan's pace, the process restarted on the
# new release, every client back (on the new release), none lost.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/recipes-lib.sh"
e2e_init 65-recipe-mastodon

PY=/usr/bin/python3
STANDINS=$E2E_LIB_DIR/standins
export SYSTEMD_STANDIN=$T/systemd STANDIN_PIDS=$T/pids
systemctl_on() { SYSTEMD_HOST=$1 "$STANDINS/systemctl" "${@:2}"; }
# unit HOST UNIT RELOAD_SIGNAL CMD...: a unit running CMD.
unit() {
	local d=$SYSTEMD_STANDIN/$1/$2
	mkdir -p "$d"
	printf 'exec' >"$d/exec"
	printf ' %q' "${@:4}" >>"$d/exec"
	echo >>"$d/exec"
	[ -n "$3" ] && echo "$3" >"$d/reload-signal"
	systemctl_on "$1" start "$2" || e2e_bail "unit $1 $2 did not start"
}
mkdir -p "$T/release"
for h in web1 web2 st1 st2; do echo 4.2.9 >"$T/release/$h"; done
declare -A P
for h in web1 web2; do
	P[$h]=$(free_port)
	unit "$h" mastodon-web.service USR1 "$PY" "$STANDINS/puma-standin.py" \
		--port "${P[$h]}" --version-file "$T/release/$h" --workers 2
done
for h in st1 st2; do
	P[$h]=$(free_port)
	unit "$h" "mastodon-streaming@${P[$h]}.service" "" "$PY" \
		"$STANDINS/streaming-standin.py" --port "${P[$h]}" \
		--version-file "$T/release/$h"
done

fe_web=$(free_port)
fe_st=$(free_port)
cat >"$T/lb1.cfg" <<CFG
global
    maxconn 2000
    stats socket $T/lb1.sock level admin
defaults
    timeout connect 1s
    timeout client 5m
    timeout server 5m
frontend web_in
    mode http
    bind 127.0.0.1:$fe_web
    default_backend mastodon_web
frontend streaming_in
    mode tcp
    bind 127.0.0.1:$fe_st
    default_backend mastodon_streaming
backend mastodon_web
    mode http
    balance roundrobin
    option httpchk GET /health
    server web1 127.0.0.1:${P[web1]} check inter 200ms
    server web2 127.0.0.1:${P[web2]} check inter 200ms
backend mastodon_streaming
    mode tcp
    balance leastconn
    option httpchk GET /api/v1/streaming/health
    server st1 127.0.0.1:${P[st1]} check inter 200ms
    server st2 127.0.0.1:${P[st2]} check inter 200ms
CFG
start_lb_cfg lb1 "$T/lb1.cfg"
wait_lb_up lb1 mastodon_web
wait_lb_up lb1 mastodon_streaming
export MASTODON_SYSTEMCTL="env SYSTEMD_HOST=%s $STANDINS/systemctl"

# ---- web: phased restarts, one host at a time, under load
recipe_plan mastodon web.yaml "$T/web.yaml" "$T/lb1.sock"
recipe_sed "$T/web.yaml" '^  interval: 1s' '  interval: 100ms'
recipe_sed "$T/web.yaml" '^  for: 1m' '  for: 1s'
assert_rc "web: --dry-run against the live HAProxy" 0 \
	"$CUTOVER" rollout "$T/web.yaml" --dry-run
bg_run load "$TOOLS/loadgen" --url "http://127.0.0.1:$fe_web/api/v1/instance" \
	--clients 4 --until-file "$T/stop-load" --report "$T/load.report"
sleep 0.5
for h in web1 web2; do echo 4.2.10 >"$T/release/$h"; done	# new code in place
old_masters="$(cat "$SYSTEMD_STANDIN/web1/mastodon-web.service/pid") $(cat "$SYSTEMD_STANDIN/web2/mastodon-web.service/pid")"
MASTODON_EXPECT_VERSION=4.2.10 assert_rc "web: every host reloaded" 0 \
	"$CUTOVER" rollout "$T/web.yaml" --yes
flat=$(tr '\n' ' ' <<<"$OUT")
assert_match "summary" "rollout done: 2 servers upgraded" "$OUT"
for h in web1 web2; do
	assert_match "$h: drained, reloaded, every worker on 4.2.10, then probed" \
		"mastodon_web/$h: wait_idle -> after_drain|mastodon_web/$h: .*reloading mastodon-web.service \\(phased restart\\), was 4.2.9 .*$h: every worker runs 4.2.10 .*mastodon_web/$h: upgrading -> probing" "$flat"
	assert_match "$h: the puma master kept running (a phased restart)" \
		"phased restart: worker 1 [0-9]+ -> [0-9]+" \
		"$(cat "$SYSTEMD_STANDIN/$h/mastodon-web.service/pid.log")"
done
assert_eq "the same puma masters" "$old_masters" \
	"$(cat "$SYSTEMD_STANDIN/web1/mastodon-web.service/pid") $(cat "$SYSTEMD_STANDIN/web2/mastodon-web.service/pid")"
sleep 0.5
touch "$T/stop-load"
bg_wait load 20
load=$(cat "$T/load.report")
echo "# web load: $load"
assert_match "not one request failed" " failed=0 " "$load"
assert_match "no request retried" " retried=0 " "$load"
assert_match "answers from the new release" "4\\.2\\.10:[0-9]+" "$load"

# ---- streaming: paced shedding, then restart
bg_run clients "$TOOLS/tcpclients" --port "$fe_st" --clients 200 \
	--until-file "$T/stop" --report "$T/clients.report"
st_total() { echo $(($(srv_scur lb1 mastodon_streaming/st1) + $(srv_scur lb1 mastodon_streaming/st2))); }
wait_for "200 streaming clients" 20 output_is 200 st_total
recipe_plan mastodon streaming.yaml "$T/streaming.yaml" "$T/lb1.sock"
recipe_sed "$T/streaming.yaml" '^  timeout: 30s ' '  timeout: 300ms '
recipe_sed "$T/streaming.yaml" '^  shed_rate: 50/s ' '  shed_rate: 100/s '
recipe_sed "$T/streaming.yaml" '^  interval: 1s' '  interval: 100ms'
recipe_sed "$T/streaming.yaml" '^  for: 30s$' '  for: 1s'
assert_rc "streaming: --dry-run against the live HAProxy" 0 \
	"$CUTOVER" rollout "$T/streaming.yaml" --dry-run
for h in st1 st2; do echo 4.2.10 >"$T/release/$h"; done
MASTODON_STREAMING_UNIT='mastodon-streaming@%p.service' \
	assert_rc "streaming: every process restarted" 0 \
	"$CUTOVER" rollout "$T/streaming.yaml" --yes
flat=$(tr '\n' ' ' <<<"$OUT")
for h in st1 st2; do
	assert_match "$h: shed at the plan's pace, then restarted, then probed" \
		"mastodon_streaming/$h \\[shed\\] [0-9]+ closed at [0-9.]+/s, 0 left .*restarting mastodon-streaming@${P[$h]}.service .*mastodon_streaming/$h: upgrading -> probing .*mastodon_streaming/$h: probing -> enabling" "$flat"
done
wait_for "200 streaming clients again" 20 output_is 200 st_total
touch "$T/stop"
bg_wait clients 20
report=$(cat "$T/clients.report")
echo "# streaming clients: $report"
assert_match "no streaming client lost" " lost=0 " "$report"
assert_match "every one on the new release" "versions=4.2.10:200( |$)" "$report"

e2e_done
