#!/usr/bin/env bash
# 55-switch-resume: a blue/green switch is SIGKILLed half-way and
# `cutover resume` finishes it, under HTTP load through the LBs the whole
# time with 0 failed requests.
#   - map mode, killed while blue drains (blue holds slow requests):
#     resume verifies green, sets the map (already green) on both LBs,
#     watches, waits for blue's requests, retires; the slow requests end
#     200; the journal (0600) records every step and ends "ok";
#   - servers mode, killed between canary steps: resume ends with green
#     ready and blue drained on both LBs;
#   - servers mode killed again, then `resume --abort`: blue back in
#     service and green drained on both LBs, the journal ends "aborted",
#     and a following resume has nothing to do;
#   - a --dry-run switch leaves no journal.
# The kills are timed on the journal's step records, never by sleeping.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 55-switch-resume

RUNS=$CUTOVER_STATE_DIR/runs
for s in b1 b2; do start_backend "$s" v1; done
for s in g1 g2; do start_backend "$s" v2; done

# ---- two LBs choosing blue or green through a map entry ----------------
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
MAP_LBS=(--lb "unix:$T/lb1.sock" --lb "unix:$T/lb2.sock")

# ---- two LBs with blue and green as servers of one backend --------------
LB_SERVER_OPTS="weight 10"
start_lb lb3 "b1=$PORT_b1" "b2=$PORT_b2" "g1=$PORT_g1" "g2=$PORT_g2"
start_lb lb4 "b1=$PORT_b1" "b2=$PORT_b2" "g1=$PORT_g1" "g2=$PORT_g2"
wait_lb_up lb3
wait_lb_up lb4
SRV_LBS=(--lb "unix:$(lb_sock lb3)" --lb "tcp:$(lb_sock lb4 tcp)")
for lb in lb3 lb4; do
	for s in g1 g2; do
		lb_cmd "$lb" "set server app/$s state drain" >/dev/null
		wait_for "$lb: $s drain" 5 output_is drain srv_admin "$lb" "app/$s"
	done
done
states() {	# LB: "b1=ready/10 b2=... g1=... g2=..." (admin state/weight)
	local s out=
	for s in b1 b2 g1 g2; do
		out="$out${out:+ }$s=$(srv_admin "$1" "app/$s")/$(srv_weight "$1" "app/$s")"
	done
	echo "$out"
}
all_states() { echo "lb3: $(states lb3); lb4: $(states lb4)"; }
BLUE_LIVE="b1=ready/10 b2=ready/10 g1=drain/10 g2=drain/10"
GREEN_LIVE="b1=drain/10 b2=drain/10 g1=ready/10 g2=ready/10"
assert_eq "servers LBs: blue ready, green drain" \
	"lb3: $BLUE_LIVE; lb4: $BLUE_LIVE" "$(all_states)"

versions() {	# LB N: the versions answering N requests, counted
	local p=FEPORT_$1
	for _ in $(seq "$2"); do curl -s "http://127.0.0.1:${!p}/version"; done |
		sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1 }'
}
# run_cutover DESC RC ARGS...: its stderr is kept for the sanitizer check.
run_cutover() {
	assert_rc "$1" "$2" "$CUTOVER" "${@:3}"
	cat "$ERR_FILE" >>"$T/cutover.err"
}
newest_journal() {
	ls -1t "$RUNS"/*.jsonl 2>/dev/null | head -1
}
# killed_at NAME PATTERN ARGS...: start cutover ARGS, SIGKILL it as soon
# as its journal matches PATTERN; KILLED_JOURNAL is the journal.
killed_at() {
	local name=$1 pattern=$2 j deadline
	shift 2
	rm -rf "$RUNS"
	bg_run "$name" "$CUTOVER" "$@"
	deadline=$(($(now_ms) + $(_e2e_ms 30)))
	until j=$(newest_journal) && [ -n "$j" ] && grep -q "$pattern" "$j"; do
		[ "$(now_ms)" -lt "$deadline" ] || e2e_bail "$name never reached $pattern" \
			"$(cat "$T/bg-$name.out" "$T/bg-$name.err")"
		sleep 0.02
	done
	kill -KILL "$(eval echo "\$BGPID_$name")"
	bg_wait "$name" 10
	cat "$T/bg-$name.err" >>"$T/cutover.err"
	assert_eq "$name: killed" 137 "$RC"
	KILLED_JOURNAL=$j
}

# The load runs through every LB for the whole test.
for lb in lb1 lb2 lb3 lb4; do
	p=FEPORT_$lb
	bg_run "load_$lb" "$TOOLS/loadgen" --url "http://127.0.0.1:${!p}/" \
		--clients 2 --until-file "$T/stop" --report "$T/load_$lb"
done

# ---- map mode: killed while blue drains -----------------------------------
cat >"$T/map.yaml" <<PLAN
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
watch: { for: 300ms, interval: 100ms, max_5xx: 0 }
drain: { timeout: 30s, on_timeout: fail }
hooks:
  retire: [touch, "$T/retired-{backend}"]
PLAN

mkdir -p "$RUNS"
before=$(ls "$RUNS" | wc -l)
run_cutover "dry run exits 0" 0 "${MAP_LBS[@]}" switch "$T/map.yaml" --dry-run
assert_eq "a dry run leaves no journal" "$before" "$(ls "$RUNS" | wc -l)"

# Blue holds one slow request per LB, so that draining blue takes a while.
for lb in lb1 lb2; do
	p=FEPORT_$lb
	bg_run "slow_$lb" curl -s -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:${!p}/slow?ms=$(_e2e_ms 6)"
done
holding() { [ "$(cat "$T"/be-b1.log "$T"/be-b2.log | grep -c holding)" -ge 2 ]; }
wait_for "blue holds both slow requests" 10 holding

killed_at sw_map '"step":"drain_blue"' "${MAP_LBS[@]}" switch "$T/map.yaml" --yes
J=$KILLED_JOURNAL
assert_eq "the journal is 0600" 600 "$(stat -c %a "$J")"
assert_match "the journal says switch, to green" '"ev":"run".*"kind":"switch".*' "$(head -1 "$J")"
assert_match "the first record has the direction" '"to":"green"' "$(head -1 "$J")"
assert_match "the journal records the steps" \
	'"step":"verify".*"step":"switch".*"step":"watch".*"step":"drain_blue"' "$(tr '\n' ' ' <"$J")"
if grep -q '"ev":"end"' "$J"; then not_ok "a killed switch has no end record"; else ok "a killed switch has no end record"; fi
assert_eq "lb1: traffic is on green after the kill" "v2:5" "$(versions lb1 5)"

run_cutover "resume after a kill while blue drains exits 0" 0 resume --yes
assert_match "resume says what the journal says" "resuming switch run .*to green.*last step drain_blue" "$(tr '\n' ' ' <<<"$ERR")"
assert_match "resume says what each LB reports" "lb1.*map $T/bg.map active: be_green" "$ERR"
assert_match "resume drained blue and retired it" "drain_blue -> retire.*retire -> done" "$(tr '\n' ' ' <<<"$OUT")"
assert_match "the journal records the resume" '"ev":"resume"' "$(cat "$J")"
assert_match "the journal ends ok" '"ev":"end","status":"ok"' "$(tail -1 "$J")"
for lb in lb1 lb2; do
	assert_match "$lb: map entry is green" 'value="be_green"' "$(lb_cmd "$lb" "get map $T/bg.map active")"
	assert_eq "$lb: green answers" "v2:10" "$(versions "$lb" 10)"
	bg_wait "slow_$lb" 20
	assert_eq "$lb: blue's slow request answered" 200 "$OUT"
done
assert_eq "the retire hook ran, for blue" "retired-be_blue" "$(cd "$T" && ls retired-* 2>/dev/null)"
run_cutover "nothing left to resume" 2 resume
assert_match "resume says so" "no unfinished run" "$ERR"

# ---- servers mode: killed between canary steps -----------------------------
cat >"$T/servers.yaml" <<PLAN
backend: app
switch: { mode: servers, blue: [b1, b2], green: "g*", steps: [10%, 50%, 100%] }
probe:
  http: { url: "http://{addr}:{port}/version", body: v2 }
  interval: 100ms
  deadline: 10s
watch: { for: 1s, interval: 100ms, max_5xx: 0 }
drain: { timeout: 10s, on_timeout: fail }
PLAN
killed_at sw_srv '"reason":"step 2/3' "${SRV_LBS[@]}" switch "$T/servers.yaml" --yes
if [ "$(all_states)" = "lb3: $GREEN_LIVE; lb4: $GREEN_LIVE" ]; then
	not_ok "killed mid-way: the switch was not finished"
else
	ok "killed mid-way: the switch was not finished"
fi
run_cutover "resume after a kill between canary steps exits 0" 0 resume --yes
assert_match "resume reports the servers on each LB" "lb3.sock +green app/g1 ready/up" "$ERR"
assert_eq "after resume: green ready, blue drained, on every LB" \
	"lb3: $GREEN_LIVE; lb4: $GREEN_LIVE" "$(all_states)"
assert_match "that journal ends ok" '"ev":"end","status":"ok"' "$(tail -1 "$KILLED_JOURNAL")"

# ---- servers mode: killed, then resume --abort ----------------------------
run_cutover "back to blue by hand" 0 "${SRV_LBS[@]}" switch "$T/servers.yaml" --to blue --yes
assert_eq "blue in service again" "lb3: $BLUE_LIVE; lb4: $BLUE_LIVE" "$(all_states)"
killed_at sw_abort '"reason":"step 2/3' "${SRV_LBS[@]}" switch "$T/servers.yaml" --yes
run_cutover "resume --abort exits 0" 0 resume --abort --yes
assert_match "abort says where traffic goes" "aborting switch run.*back to blue" "$(tr '\n' ' ' <<<"$ERR")"
assert_eq "after the abort: blue ready, green drained, on every LB" \
	"lb3: $BLUE_LIVE; lb4: $BLUE_LIVE" "$(all_states)"
assert_match "the journal ends aborted" '"ev":"end","status":"aborted"' "$(tail -1 "$KILLED_JOURNAL")"
run_cutover "resume after the abort: nothing to resume" 2 resume "$KILLED_JOURNAL"
assert_match "resume says so" "ended aborted: nothing to resume" "$ERR"

touch "$T/stop"
for lb in lb1 lb2 lb3 lb4; do
	bg_wait "load_$lb" 20
	assert_match "load through $lb: 0 failed" " failed=0 " "$(cat "$T/load_$lb")"
done

e2e_done
