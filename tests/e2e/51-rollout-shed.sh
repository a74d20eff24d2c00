#!/usr/bin/env bash
# 51-rollout-shed: a rolling upgrade of servers that hold long-lived TCP
# sessions (XMPP, MQTT-like) never reaches 0 sessions by itself. With
# drain.on_timeout: shed, after the grace time the rest are closed one by
# one at drain.shed_rate and the run goes on: every server is upgraded,
# every client ends up connected again (to upgraded servers), none lost.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 51-rollout-shed

for s in t1 t2 t3; do start_backend "$s" v1 --tcp; done
start_lb_tcp lb1 "t1=$PORT_t1" "t2=$PORT_t2" "t3=$PORT_t3"
start_lb_tcp lb2 "t1=$PORT_t1" "t2=$PORT_t2" "t3=$PORT_t3"
wait_lb_up lb1
wait_lb_up lb2

bg_run c1 "$TOOLS/tcpclients" --port "$FEPORT_lb1" --clients 90 \
	--until-file "$T/stop" --report "$T/c1.report"
bg_run c2 "$TOOLS/tcpclients" --port "$FEPORT_lb2" --clients 90 \
	--until-file "$T/stop" --report "$T/c2.report"
total_scur() {
	local lb n=0 s
	for lb in lb1 lb2; do
		for s in t1 t2 t3; do n=$((n + $(srv_scur $lb "app/$s"))); done
	done
	echo "$n"
}
wait_for "180 clients connected" 20 output_is 180 total_scur

cat >"$T/plan.yaml" <<PLAN
backend: app
servers: all
rolling: { batch: 1, min_serving: 2 }
drain: { timeout: 500ms, on_timeout: shed, shed_rate: 200/s }
hooks:
  upgrade:
    - [bash, $E2E_LIB_DIR/hooks/restart-backend.sh, $T, $TOOLS, "{server}", "{port}", v2, --tcp]
probe:
  tcp: true
  interval: 100ms
  deadline: 10s
PLAN
assert_rc "rollout with on_timeout shed exits 0" 0 \
	"$CUTOVER" --lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)" \
	rollout "$T/plan.yaml" --yes
assert_match "each server reached the deadline and was shed" \
	"app/t1: wait_idle -> shedding .*app/t1: shedding -> maint" "$(tr '\n' ' ' <<<"$OUT")"
assert_match "reports the shed" "app/t1 \\[shed\\] [0-9]+ closed at" "$OUT"
assert_match "all done" "rollout done: 3 servers upgraded" "$OUT"
wait_for "180 clients connected again" 30 output_is 180 total_scur
touch "$T/stop"
bg_wait c1 30
bg_wait c2 30
for c in c1 c2; do
	assert_match "$c: no client lost" " lost=0 " "$(cat "$T/$c.report")"
	assert_match "$c: every client on v2 at the end" "versions=v2:90( |$)" "$(cat "$T/$c.report")"
done
for s in t1 t2 t3; do
	for lb in lb1 lb2; do
		assert_eq "$s ready on $lb" ready "$(srv_admin $lb "app/$s")"
	done
done

e2e_done
