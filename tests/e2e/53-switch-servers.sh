#!/usr/bin/env bash
# 53-switch-servers: blue/green in `mode: servers` (two sets of servers of
# backend app, weight 10 each) on two HAProxy instances.
#   - --dry-run prints the three steps and changes nothing;
#   - under load, `cutover switch` moves traffic in steps 10%, 50%, 100%
#     (each switched then watched): 0 failed, 0 retried; at the end on
#     every LB green is ready at weight 10, blue drained at weight 10 (its
#     weight restored), the retire hook ran, only v2 answers;
#   - `--to blue` puts blue back in service and drains green;
#   - green answering 500 on /: the watch of the first step (10%) sees it,
#     traffic goes back to blue on every LB, exit 1, ROLLED BACK;
#   - verify: with g2 down and no min_green the switch is refused (exit 1,
#     says how many green servers are UP) and no LB changes.
# States are read with the harness readers, never through cutover.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 53-switch-servers

SRVS="b1 b2 g1 g2"
for s in b1 b2; do start_backend "$s" v1; done
for s in g1 g2; do start_backend "$s" v2; done
LB_SERVER_OPTS="weight 10"
start_lb lb1 "b1=$PORT_b1" "b2=$PORT_b2" "g1=$PORT_g1" "g2=$PORT_g2"
start_lb lb2 "b1=$PORT_b1" "b2=$PORT_b2" "g1=$PORT_g1" "g2=$PORT_g2"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")

# Green takes no traffic before the switch.
for lb in lb1 lb2; do
	for s in g1 g2; do
		lb_cmd "$lb" "set server app/$s state drain" >/dev/null
		wait_for "$lb: $s drain" 5 output_is drain srv_admin "$lb" "app/$s"
	done
done

states() {	# LB: "b1=ready/10 b2=... g1=... g2=..." (admin state/weight)
	local s out=
	for s in $SRVS; do
		out="$out${out:+ }$s=$(srv_admin "$1" "app/$s")/$(srv_weight "$1" "app/$s")"
	done
	echo "$out"
}
all_states() { echo "lb1: $(states lb1); lb2: $(states lb2)"; }
versions() {	# LB N: the versions answering N requests, counted
	local p=FEPORT_$1
	for _ in $(seq "$2"); do curl -s "http://127.0.0.1:${!p}/version"; done |
		sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1 }'
}
flat() { tr '\n' ' ' <<<"$1"; }
# run_cutover DESC RC ARGS...: assert_rc on cutover; its stderr is kept in
# $T/cutover.err so that a sanitizer report of any run fails the test.
run_cutover() {
	assert_rc "$1" "$2" "$CUTOVER" "${LBS[@]}" "${@:3}"
	cat "$ERR_FILE" >>"$T/cutover.err"
}
load_start() {	# start loadgen through both LBs
	rm -f "$T/stop"
	for lb in lb1 lb2; do
		local p=FEPORT_$lb
		bg_run "load_$lb" "$TOOLS/loadgen" --url "http://127.0.0.1:${!p}/" \
			--clients 4 --until-file "$T/stop" --report "$T/load_$lb"
	done
	sleep 0.5
}
load_stop() {
	touch "$T/stop"
	for lb in lb1 lb2; do bg_wait "load_$lb" 20; done
}
sampler() {	# LB: print its states when they change, until $T/stop-sampler
	local last= cur
	while [ ! -e "$T/stop-sampler" ]; do
		cur=$(states "$1") && [ "$cur" != "$last" ] && echo "$cur" && last=$cur
		sleep 0.02
	done
}

BLUE_LIVE="b1=ready/10 b2=ready/10 g1=drain/10 g2=drain/10"
GREEN_LIVE="b1=drain/10 b2=drain/10 g1=ready/10 g2=ready/10"
assert_eq "before: blue ready, green drain, weight 10, on every LB" \
	"lb1: $BLUE_LIVE; lb2: $BLUE_LIVE" "$(all_states)"
assert_eq "blue answers before" "v1:10" "$(versions lb1 10)"

cat >"$T/plan.yaml" <<PLAN
backend: app
switch: { mode: servers, blue: [b1, b2], green: "g*", steps: [10%, 50%, 100%] }
probe:
  http: { url: "http://{addr}:{port}/version", body: v2 }
  interval: 100ms
  deadline: 10s
watch: { for: 1s, interval: 100ms, max_5xx: 0 }
drain: { timeout: 10s, on_timeout: fail }
hooks:
  retire: [touch, "$T/retired-{backend}"]
PLAN

# --dry-run: the steps, nothing changed.
before=$(all_states)
run_cutover "dry run exits 0" 0 switch "$T/plan.yaml" --dry-run
assert_match "dry run: the three steps in order" \
	"dry run: nothing is changed.*green: app/g1 app/g2.*3\\.1 green at 10% .*3\\.2 green at 50% .*3\\.3 green at 100% of its weight, blue drained" \
	"$(flat "$OUT")"
assert_eq "dry run: no state changed on any LB" "$before" "$(all_states)"
if [ -e "$T/retired-app" ]; then not_ok "dry run ran the retire hook"; else ok "dry run ran no hook"; fi

# The switch, under load through both LBs, the states sampled meanwhile.
for lb in lb1 lb2; do
	bg_run "states_$lb" sampler "$lb"
	wait_for "first sample of $lb" 5 test -s "$T/bg-states_$lb.out"
done
load_start
run_cutover "switch to green exits 0" 0 switch "$T/plan.yaml" --yes
SW_OUT=$OUT
echo "$OUT" >"$T/switch.out"
assert_eq "after: green ready at 10, blue drain at 10, on every LB" \
	"lb1: $GREEN_LIVE; lb2: $GREEN_LIVE" "$(all_states)"
assert_eq "lb1: every request after the switch answered by green" "v2:20" "$(versions lb1 20)"
assert_eq "lb2: every request after the switch answered by green" "v2:20" "$(versions lb2 20)"
load_stop
touch "$T/stop-sampler"
STEP1="b1=ready/9 b2=ready/9 g1=ready/1 g2=ready/1"	# 10%: 1 of 10+10
STEP2="b1=ready/5 b2=ready/5 g1=ready/5 g2=ready/5"	# 50%
for lb in lb1 lb2; do
	bg_wait "states_$lb" 10
	assert_match "$lb: weights seen at 10%, at 50%, then green only" \
		"$BLUE_LIVE .*$STEP1 .*$STEP2 .*$GREEN_LIVE $" "$(flat "$OUT")"
	assert_match "$lb load: 0 failed during the switch" " failed=0 " "$(cat "$T/load_$lb")"
	assert_match "$lb load: 0 retried during the switch" " retried=0 " "$(cat "$T/load_$lb")"
	assert_match "$lb load: saw both versions" "versions=(v1:[0-9]+,v2:[0-9]+|v2:[0-9]+,v1:[0-9]+)" "$(cat "$T/load_$lb")"
done
assert_match "output: three steps in order, each switched then watched" \
	"verify -> before_switch.*-> switch - step 1/3: 10%.*green at 10% on every LB.*switch -> watch.*-> switch - step 2/3: 50%.*green at 50% on every LB.*switch -> watch.*-> switch - step 3/3: 100%.*green at 100%, blue drained on every LB.*switch -> watch.*watch -> after_switch.*drain_blue -> retire.*retire -> done" \
	"$(flat "$SW_OUT")"
assert_eq "output: exactly three switch steps" 3 "$(grep -c -- '-> switch - step' <<<"$SW_OUT")"
assert_eq "output: exactly three watches" 3 "$(grep -c 'switch -> watch' <<<"$SW_OUT")"
assert_match "output: switch done" "switch done: traffic is on green" "$SW_OUT"
assert_eq "the retire hook ran once" "retired-app" "$(cd "$T" && ls retired-* 2>/dev/null)"

# A canary that fails: green answers 500 on / (but /version and /health
# still pass, so it is verified and UP).
for s in g1 g2; do stop_backend "$s"; done
start_backend g1 v2 --port "$PORT_g1" --status-code 500
start_backend g2 v2 --port "$PORT_g2" --status-code 500
for lb in lb1 lb2; do
	for s in g1 g2; do	# green is in service (blue drained): status UP
		wait_for "$lb sees $s UP" 10 output_is UP srv_status "$lb" "app/$s"
	done
done

# Blue back in service first, by hand.
run_cutover "switch --to blue exits 0" 0 switch "$T/plan.yaml" --to blue --yes
assert_eq "--to blue: blue ready, green drain, on every LB" \
	"lb1: $BLUE_LIVE; lb2: $BLUE_LIVE" "$(all_states)"
assert_match "--to blue: says traffic is on blue" "switch done: traffic is on blue" "$OUT"
assert_eq "blue answers again on lb1" "v1:10" "$(versions lb1 10)"
assert_eq "blue answers again on lb2" "v1:10" "$(versions lb2 10)"

load_start
run_cutover "a failing green: exit 1" 1 switch "$T/plan.yaml" --yes
RB_OUT=$OUT
echo "$OUT" >"$T/rollback.out"
load_stop
assert_match "says it rolled back, and why" "ROLLED BACK: traffic is back on blue.*5xx" "$RB_OUT"
assert_match "the rollback came from the watch of step 1 (10%)" \
	"-> switch - step 1/3: 10%.*green at 10% on every LB.*switch -> watch.*watch -> rollback - watch: green answered [0-9]+ 5xx.*blue back in service, green drained on every LB" \
	"$(flat "$RB_OUT")"
assert_eq "no later step was started" 0 "$(grep -c 'step [23]/3' <<<"$RB_OUT" || true)"
assert_eq "after the rollback: blue ready, green drain, on every LB" \
	"lb1: $BLUE_LIVE; lb2: $BLUE_LIVE" "$(all_states)"
assert_eq "blue answers on lb1 after the rollback" "v1:10" "$(versions lb1 10)"
assert_eq "blue answers on lb2 after the rollback" "v1:10" "$(versions lb2 10)"
assert_eq "the retire hook did not run again" "retired-app" "$(cd "$T" && ls retired-* 2>/dev/null)"

# Verify refuses: g2 down and no min_green.
stop_backend g2
for lb in lb1 lb2; do
	wait_for "$lb sees g2 DOWN" 10 output_is DOWN srv_status "$lb" app/g2
done
before=$(all_states)
run_cutover "verify with g2 DOWN: exit 1" 1 switch "$T/plan.yaml" --yes
assert_match "says how many green servers are UP" "only 1 of 2 green servers UP on every LB \\(2 needed\\)" "$OUT"
assert_match "and that traffic stays on blue" "switch FAILED: .*traffic stays on blue" "$OUT"
if grep -q -- '-> switch' <<<"$OUT"; then
	not_ok "no switch step started" "$OUT"
else
	ok "no switch step started"
fi
assert_eq "verify refusal: no state changed on any LB" "$before" "$(all_states)"

e2e_done
