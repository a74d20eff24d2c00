#!/usr/bin/env bash
# 46-rollout-watch-window: the watch must count what a server does from
# the moment it is back in service. docs/plan.md: "After a server is back
# in service, its HAProxy counters (summed over every LB) are watched;
# going over a limit fails the server." Here the new version answers 500
# on / and an after_enable hook runs while load goes through both LBs; the
# hook stops the load (and waits until the load generator has finished)
# before it returns, so every 5xx happens after the server was put back in
# service but before the watch window proper. With watch { max_5xx: 0 } the
# server must fail (exit 1, maint on every LB), not be reported done.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 46-rollout-watch-window

for s in web1 web2 web3; do start_backend "$s" v1 --quiet; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")
HOOK=$E2E_LIB_DIR/hooks/restart-backend.sh

# hrsp_5xx LB BE/SRV: 5xx responses HAProxy counted for the server.
hrsp_5xx() {
	_e2e_stat_field "$1" "${2%%/*}" "${2#*/}" hrsp_5xx
}
before1=$(hrsp_5xx lb1 app/web1)
before2=$(hrsp_5xx lb2 app/web1)

stop=$T/stop-load
for lb in lb1 lb2; do
	v=FEPORT_$lb
	bg_run "load_$lb" "$TOOLS/loadgen" --url "http://127.0.0.1:${!v}/" \
		--clients 4 --rate 300 --until-file "$stop" --report "$T/load-$lb"
done
# after_enable: 1 s of traffic on the enabled server, then stop the load
# and wait (bounded) until both load generators wrote their reports.
cat >"$T/watch.yaml" <<PLAN
backend: app
servers: [web1]
rolling: { batch: 1, min_serving: 1 }
hooks:
  timeout: 20s
  upgrade: [bash, $HOOK, $T, $TOOLS, "{server}", "{port}", v2, --quiet, --status-code, 500]
  after_enable: [sh, -c, 'sleep 1; touch $stop; i=0; while [ \$i -lt 200 ] && ! [ -e $T/load-lb1 -a -e $T/load-lb2 ]; do sleep 0.05; i=\$((i+1)); done']
watch: { for: 1s, interval: 100ms, max_5xx: 0 }
PLAN
assert_rc "5xx while after_enable runs: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/watch.yaml" --yes
ROLL_OUT=$OUT
for lb in lb1 lb2; do bg_wait "load_$lb" 30; done
n5xx=$(($(hrsp_5xx lb1 app/web1) - before1 + $(hrsp_5xx lb2 app/web1) - before2))
if [ "$n5xx" -gt 0 ]; then
	ok "web1 served $n5xx 5xx responses after it was put back in service"
else
	not_ok "web1 served 5xx responses after it was put back in service" \
		"none: the scenario did not happen ($(cat "$T/load-lb1"))"
fi
assert_match "the run names web1 and the watch" "app/web1 failed: .*watch: [0-9]+ 5xx" "$ROLL_OUT"
for lb in lb1 lb2; do
	assert_eq "web1 in maint on $lb" maint "$(srv_admin "$lb" app/web1)"
	for s in web2 web3; do
		assert_eq "$s untouched on $lb" ready "$(srv_admin "$lb" "app/$s")"
	done
done

e2e_done
