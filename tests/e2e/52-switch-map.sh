#!/usr/bin/env bash
# 52-switch-map: blue/green through a map entry on two HAProxy instances.
#   - under load, `cutover switch` verifies green, sets the map on both LBs
#     at once, rewrites the map file, watches green, drains blue and runs
#     the retire hook: 0 failed requests, and every request that starts
#     after the switch returned is answered by green;
#   - a reload of HAProxy after the switch keeps green (file rewritten);
#   - `--to blue` switches back by hand;
#   - green that starts answering 500 during the watch: traffic goes back
#     to blue automatically, exit 1, the output says so.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 52-switch-map

start_backend b1 v1
start_backend b2 v1
start_backend g1 v2
start_backend g2 v2
echo "active be_blue" >"$T/bg.map"
bg_lb() {	# NAME
	local fe
	fe=$(free_port)
	cat >"$T/$1.cfg" <<CFG
global
    stats socket $T/$1.sock level admin
    stats maxconn 20
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    option httpchk GET /health
frontend fe
    bind 127.0.0.1:$fe
    use_backend %[str(active),map($T/bg.map,be_blue)]
backend be_blue
    server b1 127.0.0.1:$PORT_b1 check inter 200ms
    server b2 127.0.0.1:$PORT_b2 check inter 200ms
backend be_green
    server g1 127.0.0.1:$PORT_g1 check inter 200ms
    server g2 127.0.0.1:$PORT_g2 check inter 200ms
CFG
	start_lb_cfg "$1" "$T/$1.cfg"
	printf -v "FEPORT_$1" '%s' "$fe"
}
bg_lb lb1
bg_lb lb2
wait_lb_up lb1 be_green
wait_lb_up lb2 be_green
LBS=(--lb "unix:$T/lb1.sock" --lb "unix:$T/lb2.sock")
versions() {	# LB N: the versions answering N requests, counted
	local p=FEPORT_$1
	for _ in $(seq "$2"); do curl -s "http://127.0.0.1:${!p}/version"; done |
		sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1 }'
}
assert_eq "blue answers before" "v1:10" "$(versions lb1 10)"

cat >"$T/plan.yaml" <<PLAN
switch:
  mode: map
  map: $T/bg.map
  key: active
  blue: be_blue
  green: be_green
probe:
  http: { url: "http://{addr}:{port}/version", body: v2 }
  interval: 100ms
  deadline: 10s
watch: { for: 1s, interval: 100ms, max_5xx: 0 }
drain: { timeout: 10s, on_timeout: fail }
hooks:
  retire: [touch, "$T/retired-{backend}"]
PLAN

bg_run load1 "$TOOLS/loadgen" --url "http://127.0.0.1:$FEPORT_lb1/" --clients 4 \
	--until-file "$T/stop" --report "$T/load1"
bg_run load2 "$TOOLS/loadgen" --url "http://127.0.0.1:$FEPORT_lb2/" --clients 4 \
	--until-file "$T/stop" --report "$T/load2"
sleep 0.5
assert_rc "switch to green exits 0" 0 "$CUTOVER" "${LBS[@]}" switch "$T/plan.yaml" --yes
SW_OUT=$OUT
echo "$OUT" >"$T/switch.out"
assert_eq "lb1: every request after the switch answered by green" "v2:20" "$(versions lb1 20)"
assert_eq "lb2: every request after the switch answered by green" "v2:20" "$(versions lb2 20)"
touch "$T/stop"
for l in load1 load2; do
	bg_wait "$l" 20
	assert_match "$l: 0 failed during the switch" " failed=0 " "$(cat "$T/$l")"
	assert_match "$l: 0 retried during the switch" " retried=0 " "$(cat "$T/$l")"
	assert_match "$l: saw both versions" "versions=(v1:[0-9]+,v2:[0-9]+|v2:[0-9]+,v1:[0-9]+)" "$(cat "$T/$l")"
done
assert_match "output: verified, switched, watched, drained, retired" \
	"verify -> before_switch.*switch -> watch.*watch -> after_switch.*drain_blue -> retire.*retire -> done" \
	"$(tr '\n' ' ' <<<"$SW_OUT")"
assert_match "output: the map set on both LBs" "map $T/bg.map: active -> be_green on 2 LBs" "$SW_OUT"
assert_eq "map file rewritten on disk" "active be_green" "$(cat "$T/bg.map")"
assert_eq "the retire hook ran once, for blue" "retired-be_blue" "$(cd "$T" && ls retired-* 2>/dev/null)"
assert_match "map entry on lb2" "value=\"be_green\"" "$(lb_cmd lb2 "get map $T/bg.map active")"

# A reload re-reads the map file: green stays.
lb_master_cmd lb1 reload >/dev/null || true
wait_for "lb1 reloaded and answering" 10 bash -c \
	"printf 'show info\n' | socat - UNIX-CONNECT:$T/lb1.sock | grep -q Uptime_sec"
wait_lb_up lb1 be_green
assert_eq "after a reload lb1 still sends to green" "v2:10" "$(versions lb1 10)"

# Back to blue by hand.
assert_rc "switch --to blue exits 0" 0 "$CUTOVER" "${LBS[@]}" switch "$T/plan.yaml" --to blue --yes
assert_eq "blue answers again on lb1" "v1:10" "$(versions lb1 10)"
assert_eq "blue answers again on lb2" "v1:10" "$(versions lb2 10)"
assert_eq "map file back to blue" "active be_blue" "$(cat "$T/bg.map")"

# Green breaks during the watch: automatic rollback.
stop_backend g1
stop_backend g2
start_backend g1 v2 --port "$PORT_g1" --status-code 500
start_backend g2 v2 --port "$PORT_g2" --status-code 500
wait_lb_up lb1 be_green
wait_lb_up lb2 be_green
rm -f "$T/stop"
bg_run load3 "$TOOLS/loadgen" --url "http://127.0.0.1:$FEPORT_lb1/" --clients 2 \
	--until-file "$T/stop" --report "$T/load3"
assert_rc "a failing green: exit 1" 1 "$CUTOVER" "${LBS[@]}" switch "$T/plan.yaml" --yes
assert_match "says it rolled back, and why" "ROLLED BACK: traffic is back on blue.*5xx" "$OUT"
assert_eq "blue answers on lb1 after the rollback" "v1:10" "$(versions lb1 10)"
assert_eq "blue answers on lb2 after the rollback" "v1:10" "$(versions lb2 10)"
assert_eq "map file says blue after the rollback" "active be_blue" "$(cat "$T/bg.map")"
touch "$T/stop"
bg_wait load3 20

# Green passes its probes before the switch but fails them once it has
# carried traffic (an exec probe that succeeds once per server): the
# probes at the end of the watch switch traffic back to blue.
cat >"$T/plan-probe.yaml" <<PLAN
switch: { mode: map, map: $T/bg.map, blue: be_blue, green: be_green }
probe:
  exec: [sh, -c, 'n=\$(cat "\$0" 2>/dev/null || echo 0); echo \$((n + 1)) >"\$0"; [ "\$n" -lt 1 ]', "$T/probe-{server}"]
  interval: 100ms
  deadline: 5s
watch: { for: 300ms, interval: 100ms, max_5xx: 0 }
PLAN
assert_rc "green failing its probes after the watch: exit 1" 1 \
	"$CUTOVER" "${LBS[@]}" switch "$T/plan-probe.yaml" --yes
assert_match "says why it rolled back" \
	"after the watch 2 green servers failed the plan's probes: switching back to blue" "$OUT"
assert_eq "blue answers on lb1 after that rollback" "v1:10" "$(versions lb1 10)"
assert_eq "map file says blue after that rollback" "active be_blue" "$(cat "$T/bg.map")"

e2e_done
