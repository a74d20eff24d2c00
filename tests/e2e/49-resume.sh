#!/usr/bin/env bash
# 49-resume: cutover is SIGKILLed in the middle of a rollout (while
# draining, while the upgrade hook runs, while probing, while watching) and
# `cutover resume` finishes the job each time: every server ends in
# service on both LBs with the new version, under HTTP load through both
# LBs that runs the whole time with 0 failed requests. Also: the journal
# is 0600 and records intents before actions; a SIGINT leaves a journal
# that resume finishes; `resume --abort` puts back a server that was only
# drained and leaves out, reported, one whose upgrade had begun; nothing
# is left to resume afterwards.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 49-resume

for s in web1 web2 web3; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")
RUNS=$CUTOVER_STATE_DIR/runs

# plan VERSION: roll every server to VERSION. The hook waits a little
# first, the probe needs 3 passes and the watch lasts 1.5 s, so that each
# phase is long enough to be killed in.
plan() {
	cat >"$T/plan-$1.yaml" <<PLAN
backend: app
servers: all
rolling: { batch: 1, min_serving: 2 }
drain: { timeout: 30s, on_timeout: fail }
hooks:
  timeout: 30s
  upgrade:
    - [bash, -c, 'sleep 0.7; exec bash "\$@"', hook, $E2E_LIB_DIR/hooks/restart-backend.sh, $T, $TOOLS, "{server}", "{port}", $1]
probe:
  http: { url: "http://{addr}:{port}/version", expect: 200, body: $1 }
  rise: 3
  interval: 250ms
  timeout: 1s
  deadline: 20s
watch: { for: 1500ms, interval: 200ms, max_5xx: 0, max_errors: 0 }
PLAN
}

newest_journal() {
	ls -1t "$RUNS"/*.jsonl 2>/dev/null | head -1
}

# killed_at VERSION STATE: start a rollout to VERSION, SIGKILL it as soon
# as its journal shows a server entering STATE, and print the journal.
killed_at() {
	local version=$1 state=$2 j deadline
	plan "$version"
	rm -rf "$RUNS"
	bg_run "roll$version" "$CUTOVER" "${LBS[@]}" rollout "$T/plan-$version.yaml" --yes
	deadline=$(($(now_ms) + 30000))
	until j=$(newest_journal) && [ -n "$j" ] &&
		grep -q "\"state\":\"$state\"" "$j"; do
		[ "$(now_ms)" -lt "$deadline" ] || e2e_bail "rollout to $version never reached $state"
		sleep 0.02
	done
	kill -KILL "$(eval echo "\$BGPID_roll$version")"
	bg_wait "roll$version" 10
	ok "rollout to $version killed while $state (exit $RC)"
	KILLED_JOURNAL=$j
}

# all_on VERSION: every server ready on both LBs and answering VERSION.
all_on() {
	local s v lb
	for s in web1 web2 web3; do
		v=PORT_$s
		assert_eq "$s answers $1" "$1" "$(curl -s "http://127.0.0.1:${!v}/version")"
		for lb in lb1 lb2; do
			assert_eq "$s ready on $lb" ready "$(srv_admin $lb "app/$s")"
		done
	done
}

rm -f "$T/stop"
for lb in lb1 lb2; do
	v=FEPORT_$lb
	bg_run "load$lb" "$TOOLS/loadgen" --url "http://127.0.0.1:${!v}/slow?ms=150" \
		--clients 6 --until-file "$T/stop" --report "$T/load-$lb"
done
sleep 0.5

n=2
for state in wait_idle upgrading probing watching; do
	killed_at "v$n" "$state"
	if [ "$state" = wait_idle ]; then
		assert_eq "the journal is 0600" 600 "$(stat -c %a "$KILLED_JOURNAL")"
		assert_eq "the runs directory is 0700" 700 "$(stat -c %a "$RUNS")"
		# The intent is written before the change it announces.
		assert_match "the drain was announced as an intent" \
			'"ev":"intent","server":"web1","state":"draining","do":"set state drain"' \
			"$(cat "$KILLED_JOURNAL")"
	fi
	assert_rc "resume after a kill while $state exits 0" 0 \
		"$CUTOVER" "${LBS[@]}" resume --yes
	assert_match "resume says what the journal and the LBs say" \
		"journal: $state +LBs: " "$ERR"
	assert_match "resume finished the run" "rollout done" "$OUT"
	all_on "v$n"
	assert_match "the journal ends ok" '"ev":"end","status":"ok"' \
		"$(tail -1 "$KILLED_JOURNAL")"
	n=$((n + 1))
done

# An interrupt while draining: the server goes back, the journal says so,
# and resume finishes the run.
plan v6
rm -rf "$RUNS"
bg_run int "$CUTOVER" "${LBS[@]}" rollout "$T/plan-v6.yaml" --yes
deadline=$(($(now_ms) + 30000))
until j=$(newest_journal) && [ -n "$j" ] &&
	grep -q '"state":"wait_idle"' "$j"; do
	[ "$(now_ms)" -lt "$deadline" ] || e2e_bail "the run never drained web1"
	sleep 0.02
done
kill -INT "$BGPID_int"
bg_wait int 30
assert_eq "interrupted rollout exits 5" 5 "$RC"
assert_match "its journal ends interrupted" '"ev":"end","status":"interrupted"' \
	"$(tail -1 "$(newest_journal)")"
# Put back if the interrupt came while it drained (the usual case); if the
# drain had already ended (a loaded machine delivers the signal late), its
# upgrade had begun and it rightly stays out. The journal says which.
if grep -q '"server":"web1","state":"maint"' "$(newest_journal)"; then
	echo "# the interrupt came after web1's drain: its upgrade had begun"
	assert_eq "web1 stays out on lb1 (upgrade begun)" maint \
		"$(srv_admin lb1 app/web1)"
else
	assert_eq "web1 back in service on lb1" ready "$(srv_admin lb1 app/web1)"
	assert_eq "web1 back in service on lb2" ready "$(srv_admin lb2 app/web1)"
fi
assert_rc "resume finishes the interrupted run" 0 "$CUTOVER" resume --yes
all_on v6

# --abort: a server that was only drained goes back...
killed_at v7 wait_idle
assert_rc "resume --abort after a kill while draining exits 0" 0 \
	"$CUTOVER" "${LBS[@]}" resume --abort
assert_match "abort says web1 goes back" "web1 +journal: wait_idle.*only drained: back in service" "$ERR"
assert_eq "web1 ready on lb1 after the abort" ready "$(srv_admin lb1 app/web1)"
assert_eq "web1 ready on lb2 after the abort" ready "$(srv_admin lb2 app/web1)"
assert_match "the journal ends aborted" '"ev":"end","status":"aborted"' \
	"$(tail -1 "$KILLED_JOURNAL")"
assert_rc "nothing left to resume" 2 "$CUTOVER" resume
assert_match "and it says so" "no unfinished run" "$ERR"

# ...and one whose upgrade had begun stays out and is reported (exit 1).
killed_at v8 upgrading
assert_rc "resume --abort after a kill in the hook exits 1" 1 \
	"$CUTOVER" "${LBS[@]}" resume --abort
assert_match "abort reports web1 left in maintenance" \
	"web1 +journal: upgrading.*left in maintenance; CHECK IT" "$ERR"
assert_eq "web1 stays in maint on lb1" maint "$(srv_admin lb1 app/web1)"
assert_eq "web1 stays in maint on lb2" maint "$(srv_admin lb2 app/web1)"
assert_rc "the operator puts it back" 0 "$CUTOVER" "${LBS[@]}" undrain app/web1 --wait-up

touch "$T/stop"
for lb in lb1 lb2; do
	bg_wait "load$lb" 30
	assert_eq "load through $lb: 0 failed ($(cat "$T/load-$lb"))" 0 \
		"$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' "$T/load-$lb")"
	assert_eq "load through $lb: 0 retried" 0 \
		"$(sed -n 's/.* retried=\([0-9]*\).*/\1/p' "$T/load-$lb")"
done
e2e_done
