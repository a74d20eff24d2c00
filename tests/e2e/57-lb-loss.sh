#!/usr/bin/env bash
# 57-lb-loss: an LB that stops answering in the middle of a rollout.
#   - lb2's worker is frozen (SIGSTOP) while web1's upgrade hook runs and
#     thawed 2 s later: putting web1 back is retried with backoff and the
#     run completes;
#   - lb2 is killed while web2's hook runs, with --lb-retry 2s: the run
#     tries for 2 s, then stops safely: web2 is left in maintenance on the
#     LB that answers, the exit code says the state is not confirmed on
#     every LB (7), the message names lb2, and the journal records it.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 57-lb-loss

for s in web1 web2 web3; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "unix:$(lb_sock lb2)" --lb-timeout 1s)

# plan SERVER: roll SERVER; its hook signals that it runs, then waits for
# the file "go".
plan() {
	cat >"$T/plan-$1.yaml" <<PLAN
backend: app
servers: [$1]
rolling: { min_serving: 1 }
hooks:
  timeout: 30s
  upgrade: [sh, -c, 'touch "\$0"; while [ ! -e "\$1" ]; do sleep 0.05; done', "$T/in-hook-$1", "$T/go-$1"]
PLAN
}

plan web1
bg_run r1 "$CUTOVER" "${LBS[@]}" rollout "$T/plan-web1.yaml" --yes
wait_for "web1's hook runs" 10 test -e "$T/in-hook-web1"
WORKER2=$(lb_workers lb2)
kill -STOP $WORKER2
touch "$T/go-web1"
sleep 2
kill -CONT $WORKER2
bg_wait r1 60
assert_eq "rollout with lb2 frozen for 2 s completes (exit 0)" 0 "$RC"
assert_match "it said lb2 did not answer and tried again" \
	"lb=unix:$T/lb2.sock: no answer .*trying again" "$ERR"
assert_eq "web1 ready on lb1" ready "$(srv_admin lb1 app/web1)"
assert_eq "web1 ready on lb2" ready "$(srv_admin lb2 app/web1)"

plan web2
bg_run r2 "$CUTOVER" "${LBS[@]}" --lb-retry 2s rollout "$T/plan-web2.yaml" --yes
wait_for "web2's hook runs" 10 test -e "$T/in-hook-web2"
stop_lb lb2
START=$(now_ms)
touch "$T/go-web2"
bg_wait r2 60
assert_eq "rollout with lb2 gone stops: exit 7 (not confirmed everywhere)" 7 "$RC"
took=$(($(now_ms) - START))
if [ "$took" -ge 2000 ]; then
	ok "it kept trying lb2 for the --lb-retry window (${took} ms)"
else
	not_ok "it gave up on lb2 after ${took} ms"
fi
assert_match "the message names lb2" "$T/lb2.sock" "$OUT$ERR"
assert_eq "web2 left in maintenance on lb1" maint "$(srv_admin lb1 app/web2)"
assert_match "the journal ends unsafe, web2 failed" \
	'"ev":"end","status":"unsafe".*"web2":"failed"' \
	"$(tail -1 "$(ls -1t "$CUTOVER_STATE_DIR"/runs/*.jsonl | head -1)")"
e2e_done
