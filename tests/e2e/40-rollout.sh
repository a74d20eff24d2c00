#!/usr/bin/env bash
# 40-rollout: `cutover rollout` upgrades four backends behind two HAProxy
# instances under continuous HTTP load. The upgrade hook really stops each
# backend process and starts the new version on the same port. Every
# request must succeed (thousands of them), and every backend must answer
# with the new version at the end. Done twice: requests of ~0 ms, then
# requests that each take 200 ms.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 40-rollout

for s in web1 web2 web3 web4; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3" "web4=$PORT_web4")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")

# plan VERSION PATH: the plan that rolls every server to VERSION.
plan() {
	cat >"$2" <<PLAN
backend: app
servers: all
rolling: { batch: 1, min_serving: 3 }
drain: { timeout: 30s, on_timeout: fail }
hooks:
  timeout: 30s
  upgrade:
    - [bash, $E2E_LIB_DIR/hooks/restart-backend.sh, $T, $TOOLS, "{server}", "{port}", $1]
probe:
  http: { url: "http://{addr}:{port}/version", expect: 200, body: $1 }
  rise: 2
  interval: 100ms
  timeout: 1s
  deadline: 20s
watch: { for: 1s, interval: 200ms, max_5xx: 0, max_errors: 0 }
PLAN
}

# rolled VERSION PATH: a whole rollout under load through both LBs.
rolled() {
	local version=$1 path=$2 stop=$T/stop-$1
	rm -f "$stop"
	bg_run "load1$version" "$TOOLS/loadgen" --url "http://127.0.0.1:$FEPORT_lb1$path" \
		--clients 6 --until-file "$stop" --report "$T/load1-$version"
	bg_run "load2$version" "$TOOLS/loadgen" --url "http://127.0.0.1:$FEPORT_lb2$path" \
		--clients 6 --until-file "$stop" --report "$T/load2-$version"
	sleep 1
	plan "$version" "$T/plan-$version.yaml"
	assert_rc "rollout to $version ($path) exits 0" 0 \
		"$CUTOVER" "${LBS[@]}" rollout "$T/plan-$version.yaml" --yes
	echo "$OUT" >"$T/rollout-$version.out"
	assert_match "summary: 4 servers upgraded" "rollout done: 4 servers upgraded" "$OUT"
	sleep 1
	touch "$stop"
	local lb n failed
	for lb in 1 2; do
		bg_wait "load$lb$version" 30
		n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$T/load$lb-$version")
		failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' "$T/load$lb-$version")
		assert_eq "load through lb$lb during the $version rollout: 0 failed ($(cat "$T/load$lb-$version"))" 0 "$failed"
		# A request whose kept-alive connection HAProxy closed unanswered
		# is retried by the load generator (as browsers do): that would
		# hide a cut request, so it must not happen either.
		assert_eq "load through lb$lb: 0 retried" 0 \
			"$(sed -n 's/.* retried=\([0-9]*\).*/\1/p' "$T/load$lb-$version")"
		if [ "${n:-0}" -ge "$3" ]; then
			ok "load through lb$lb: $n requests (at least $3)"
		else
			not_ok "load through lb$lb: only ${n:-0} requests"
		fi
		assert_match "load through lb$lb saw $version answer" "$version:[0-9]+" "$(cat "$T/load$lb-$version")"
	done
	for s in web1 web2 web3 web4; do
		local v=PORT_$s
		assert_eq "$s answers $version" "$version" \
			"$(curl -s "http://127.0.0.1:${!v}/version")"
		for lb in lb1 lb2; do
			assert_eq "$s ready on $lb after $version" ready "$(srv_admin $lb "app/$s")"
		done
	done
}

rolled v2 / 1000
rolled v3 "/slow?ms=200" 100

# The order of the run: one server at a time, each through every phase.
assert_match "web1 went through every phase" \
	"app/web1: pending -> draining .*app/web1: draining -> wait_idle .*app/web1: wait_idle -> maint .*app/web1: maint -> upgrading .*app/web1 \\[upgrade\\] started web1 v2.*app/web1: upgrading -> probing .*app/web1: probing -> enabling .*app/web1: enabling -> watching .*app/web1: watching -> done" \
	"$(tr '\n' ' ' <"$T/rollout-v2.out")"
assert_match "web2 started after web1 was done" "app/web1: watching -> done.*app/web2: pending -> draining" \
	"$(tr '\n' ' ' <"$T/rollout-v2.out")"

e2e_done
