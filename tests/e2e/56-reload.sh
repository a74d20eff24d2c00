#!/usr/bin/env bash
# 56-reload: HAProxy is reloaded with -sf (a new process takes the
# listeners and the stats socket, the old one soft-stops) while a rollout
# waits for web1's sessions to end. cutover notices the new process
# (its kept connection reaches an old worker reporting Stopping: 1),
# reconnects, sends its drain again, so web1 is still drained on the new
# process, and the run completes. The requests in flight during the
# reload are answered.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 56-reload

start_backend web1 v1
start_backend web2 v1
# start_lb writes the configuration; run it as a plain (not master-worker)
# process instead, which is what `haproxy -sf` reloads.
start_lb lb1 "web1=$PORT_web1" "web2=$PORT_web2"
stop_lb lb1
start_plain() {
	"$HAPROXY" -db -f "$T/lb1.cfg" "$@" </dev/null >>"$T/plain.log" 2>&1 &
	e2e_track "$!" "haproxy plain"
	PLAIN=$!
}
start_plain
wait_for "plain haproxy answers" 10 bash -c "echo 'show info' | socat - UNIX-CONNECT:$T/lb1.sock | grep -q 'Pid: $PLAIN'"
wait_lb_up lb1
FIRST=$PLAIN

cat >"$T/plan.yaml" <<PLAN
backend: app
servers: [web1]
rolling: { min_serving: 1 }
drain: { timeout: 30s, on_timeout: fail }
hooks:
  timeout: 30s
  upgrade:
    - [bash, $E2E_LIB_DIR/hooks/restart-backend.sh, $T, $TOOLS, "{server}", "{port}", v2]
probe:
  http: { url: "http://{addr}:{port}/version", expect: 200, body: v2 }
  interval: 100ms
  deadline: 20s
PLAN

# Two slow requests in flight: one lands on each server.
for i in 1 2; do
	bg_run "slow$i" curl -s -o "$T/slow$i.out" -w '%{http_code}' \
		"http://127.0.0.1:$FEPORT_lb1/slow?ms=3000"
done
wait_for "both servers hold a request" 5 bash -c \
	"[ \"\$(echo 'show stat app 4 -1' | socat - UNIX-CONNECT:$T/lb1.sock | awk -F, '\$2==\"web1\"{print \$5}')\" = 1 ]"

bg_run roll "$CUTOVER" --lb "unix:$T/lb1.sock" rollout "$T/plan.yaml" --yes
wait_for "the rollout waits for web1's sessions" 10 bash -c \
	"grep -q '\"state\":\"wait_idle\"' $CUTOVER_STATE_DIR/runs/*.jsonl"
assert_eq "web1 is drained on the first process" drain "$(srv_admin lb1 app/web1)"

start_plain -sf "$FIRST"
wait_for "the new process owns the socket" 10 bash -c \
	"echo 'show info' | socat - UNIX-CONNECT:$T/lb1.sock | grep -q 'Pid: $PLAIN'"
assert_match "the old process soft-stops" "." "$(kill -0 "$FIRST" 2>&1 && echo alive)"
# A new worker starts from the configuration (ready); cutover sends its
# drain again within about a second.
wait_for "web1 drained again on the new process" 5 bash -c \
	"echo 'show servers state app' | socat - UNIX-CONNECT:$T/lb1.sock | awk '\$4==\"web1\"{print \$7}' | grep -Eq '^(8|1|9)\$'"
ok "web1 is drained again on the new process"

bg_wait roll 60
assert_eq "the rollout completes after the reload (exit 0)" 0 "$RC"
assert_match "it says HAProxy was reloaded and what it sent again" \
	"HAProxy was reloaded or restarted \\(now pid $PLAIN\\): 1 setting made by this run sent again" "$ERR"
assert_match "and finished the server" "rollout done: 1 server upgraded" "$OUT"
assert_eq "web1 ready on the new process" ready "$(srv_admin lb1 app/web1)"
assert_eq "web1 answers v2" v2 "$(curl -s "http://127.0.0.1:$PORT_web1/version")"
for i in 1 2; do
	bg_wait "slow$i" 30
	assert_eq "slow request $i in flight during the reload answered 200" 200 "$OUT"
done
wait_for "the old process exits once its requests are done" 10 bash -c "! kill -0 $FIRST 2>/dev/null"
e2e_done
