#!/usr/bin/env bash
# 54-switch-shed: blue/green for long-lived TCP sessions. A TCP frontend
# picks its backend through a map; a switch moves new connections to
# green at once, but blue's clients stay connected. With drain.on_timeout:
# shed, after the grace time blue's sessions are closed one by one at the
# plan's rate: every client comes back, on green, none lost; then blue is
# retired.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 54-switch-shed

start_backend b1 v1 --tcp
start_backend g1 v2 --tcp
echo "active be_blue" >"$T/bg.map"
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
frontend fe
    bind 127.0.0.1:$fe
    use_backend %[str(active),map($T/bg.map,be_blue)]
backend be_blue
    server b1 127.0.0.1:$PORT_b1 check inter 200ms
backend be_green
    server g1 127.0.0.1:$PORT_g1 check inter 200ms
CFG
start_lb_cfg lb1 "$T/lb1.cfg"
wait_lb_up lb1 be_green

bg_run clients "$TOOLS/tcpclients" --port "$fe" --clients 150 \
	--until-file "$T/stop" --report "$T/clients.report"
wait_for "150 clients on blue" 20 output_is 150 srv_scur lb1 be_blue/b1

cat >"$T/plan.yaml" <<PLAN
switch: { mode: map, map: $T/bg.map, blue: be_blue, green: be_green }
probe: { tcp: true, interval: 100ms, deadline: 10s }
drain: { timeout: 300ms, on_timeout: shed, shed_rate: 200/s }
hooks:
  retire: [touch, "$T/retired"]
PLAN
assert_rc "switch exits 0" 0 "$CUTOVER" --lb "unix:$T/lb1.sock" switch "$T/plan.yaml" --yes
assert_match "blue reached its deadline and was shed" \
	"drain_blue -> blue_deadline .*on_timeout: shed.*\\[shed\\] be_blue/b1: 150 closed at" "$(tr '\n' ' ' <<<"$OUT")"
assert_match "then retired" "blue_deadline -> retire .*retire -> done" "$(tr '\n' ' ' <<<"$OUT")"
assert_eq "retire hook ran" yes "$([ -e "$T/retired" ] && echo yes)"
wait_for "150 clients back, on green" 20 output_is 150 srv_scur lb1 be_green/g1
assert_eq "blue has no session left" 0 "$(srv_scur lb1 be_blue/b1)"
touch "$T/stop"
bg_wait clients 20
assert_match "no client lost" " lost=0 " "$(cat "$T/clients.report")"
assert_match "every client on green (v2) at the end" "versions=v2:150( |$)" "$(cat "$T/clients.report")"

e2e_done
