#!/usr/bin/env bash
# 45-rollout-in-place-json: `strategy: in-place` and `--json`, behind two
# HAProxy instances (unix and TCP sockets).
#   - in-place upgrades under traffic: no server ever leaves ready on any
#     LB (a background loop samples srv_admin every 50 ms during the run;
#     no sample may say drain or maint), the upgrade hooks and the probes
#     run, exit 0, every server on the new version, ready and UP on every
#     LB; a plan with drain-side hooks is refused for in-place (they would
#     never run);
#   - --json: every line of stdout is one valid JSON object (checked with
#     jq), with the events run_start first, state, and run_end last.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 45-rollout-in-place-json
command -v jq >/dev/null || e2e_bail "jq is needed (apt-get install jq)"

ALL="web1 web2 web3 web4"
for s in $ALL; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3" "web4=$PORT_web4")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")
HOOK=$E2E_LIB_DIR/hooks/restart-backend.sh

# traces: the files hooks that must not run would have left (ran-*).
traces() {
	local f
	for f in "$T"/ran-*; do [ -e "$f" ] && echo "${f##*/}"; done
	return 0
}
version() {
	local v=PORT_$1
	curl -s --max-time 5 "http://127.0.0.1:${!v}/version"
}
# wait_eq DESC EXPECTED TIMEOUT_S CMD...: bounded poll, then assert.
wait_eq() {
	local desc=$1 want=$2 got deadline
	deadline=$(($(now_ms) + $(_e2e_ms "$3")))
	shift 3
	while got=$("$@" 2>/dev/null) || true; [ "$got" != "$want" ]; do
		[ "$(now_ms)" -ge "$deadline" ] && break
		sleep 0.05
	done
	assert_eq "$desc" "$want" "$got"
}
# shellcheck disable=SC2317  # run through bg_run
# sampler STOPFILE: every 50 ms, "MS LB SERVER ADMIN" for every server on
# every LB, until STOPFILE exists (at most 60 s).
sampler() {
	local end lb s
	end=$(($(now_ms) + 60000))
	while [ ! -e "$1" ] && [ "$(now_ms)" -lt "$end" ]; do
		for lb in lb1 lb2; do
			for s in $ALL; do
				echo "$(now_ms) $lb $s $(srv_admin "$lb" "app/$s" || echo unreadable)"
			done
		done
		sleep 0.05
	done
}
# plan FILE VERSION
plan() {
	cat >"$1" <<PLAN
backend: app
servers: all
strategy: in-place
rolling: { batch: 1, min_serving: 3 }
drain: { timeout: 1s, on_timeout: kill }
hooks:
  timeout: 20s
  upgrade: [bash, $HOOK, $T, $TOOLS, "{server}", "{port}", $2, --quiet]
probe:
  http: { url: "http://{addr}:{port}/version", expect: 200, body: $2 }
  interval: 100ms
  timeout: 1s
  deadline: 10s
watch: { for: 300ms, interval: 100ms, max_5xx: 0 }
PLAN
}

# ---- in-place ------------------------------------------------------------------
plan "$T/in-place-hooks.yaml" v2
sed -i 's|^  upgrade:|  before_drain: [touch, "'"$T"'/ran-before_drain-{server}"]\n  upgrade:|' \
	"$T/in-place-hooks.yaml"
assert_rc "in-place with a before_drain hook: refused (exit 2)" 2 \
	"$CUTOVER" "${LBS[@]}" rollout "$T/in-place-hooks.yaml" --yes
assert_match "in-place with a before_drain hook: says why, with its position" \
	"in-place-hooks.yaml:[0-9]+:[0-9]+: hooks.before_drain does not apply to strategy in-place" "$ERR"
bg_run sampler sampler "$T/stop-sampler"
wait_for "the sampler took a first sample" 10 grep -q . "$T/bg-sampler.out"
plan "$T/in-place.yaml" v2
t0=$(now_ms)
assert_rc "in-place: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/in-place.yaml" --yes
t1=$(now_ms)
ROLL_OUT=$OUT
touch "$T/stop-sampler"
bg_wait sampler 20
OUT=$ROLL_OUT
samples=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b' "$T/bg-sampler.out")
n=$(grep -c . <<<"$samples" || true)
if [ "$n" -gt 0 ]; then
	ok "in-place: $n admin-state samples taken during the run"
else
	not_ok "in-place: admin-state samples taken during the run" "none"
fi
assert_eq "in-place: no sample says drain or maint (or unreadable)" "" \
	"$(awk '$4 != "ready"' "$T/bg-sampler.out" | head -5)"
assert_match "in-place: summary" "rollout done: 4 servers upgraded" "$OUT"
assert_match "in-place: the run says strategy in-place" "\\(in-place, batch 1, min_serving 3\\)" "$OUT"
assert_eq "in-place: no drain, maint or enabling state" "" \
	"$(grep -E -- '-> (draining|wait_idle|maint|enabling|killing)( |$)' <<<"$OUT" || true)"
assert_eq "in-place: the drain-side hooks did not run" "" "$(traces)"
for s in $ALL; do
	assert_match "in-place $s: upgrade hook ran, then probe, then watch" \
		"app/$s: pending -> upgrading .*app/$s \\[upgrade\\] started $s v2 .*app/$s: upgrading -> probing .*app/$s: probing -> watching .*app/$s: watching -> done" \
		"$(tr '\n' ' ' <<<"$OUT")"
	assert_eq "in-place $s: runs v2" v2 "$(version "$s")"
	for lb in lb1 lb2; do
		assert_eq "in-place $s: ready on $lb" ready "$(srv_admin "$lb" "app/$s")"
		wait_eq "in-place $s: UP on $lb" UP 10 srv_status "$lb" "app/$s"
	done
done

# ---- --json ------------------------------------------------------------------
plan "$T/json.yaml" v3
assert_rc "--json: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/json.yaml" --yes --json
nl=0 bad=0
while IFS= read -r line; do
	nl=$((nl + 1))
	jq -e 'type == "object" and (.event | type == "string")' <<<"$line" \
		>/dev/null 2>&1 || { bad=$((bad + 1)); echo "# not a JSON event: $line"; }
done <"$OUT_FILE"
assert_eq "--json: all $nl lines are JSON objects with an event" 0 "$bad"
if [ "$nl" -gt 2 ]; then ok "--json: $nl lines"; else not_ok "--json: only $nl lines"; fi
assert_eq "--json: the first event is run_start" \
	'run_start app 4' "$(head -n 1 "$OUT_FILE" | jq -r '"\(.event) \(.backend) \(.servers)"')"
assert_eq "--json: the last event is run_end, ok" \
	'run_end true done' "$(tail -n 1 "$OUT_FILE" | jq -r '"\(.event) \(.ok) \(.result)"')"
assert_eq "--json: run_end lists every server done" \
	'app/web1 done,app/web2 done,app/web3 done,app/web4 done' \
	"$(tail -n 1 "$OUT_FILE" | jq -r '[.servers[] | "\(.server) \(.state)"] | join(",")')"
assert_eq "--json: state events take web1 pending -> ... -> done" \
	'pending>upgrading upgrading>probing probing>watching watching>done' \
	"$(jq -r 'select(.event == "state" and .server == "app/web1") | "\(.from)>\(.to)"' "$OUT_FILE" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "--json: one state event per server reaches done" 4 \
	"$(jq -r 'select(.event == "state" and .to == "done") | .server' "$OUT_FILE" | sort -u | wc -l)"
assert_eq "--json: only known events" "" \
	"$(jq -r '.event' "$OUT_FILE" | grep -vxE 'run_start|state|log|sessions|run_end' || true)"
for s in $ALL; do assert_eq "--json: $s runs v3" v3 "$(version "$s")"; done

# A run refused at the capacity floor: still JSON lines, run_end not ok.
sed 's/min_serving: 3/min_serving: 4/; s/strategy: in-place/strategy: drain/' \
	"$T/json.yaml" >"$T/json-floor.yaml"
assert_rc "--json, refused at min_serving: exit 1" 1 \
	"$CUTOVER" "${LBS[@]}" rollout "$T/json-floor.yaml" --yes --json
bad=0
while IFS= read -r line; do
	jq -e 'type == "object"' <<<"$line" >/dev/null 2>&1 || bad=$((bad + 1))
done <"$OUT_FILE"
assert_eq "--json, refused: every line is JSON" 0 "$bad"
assert_match "--json, refused: run_end not ok, names min_serving and the count" \
	'^run_end false .*min_serving 4: only 3 servers would stay in service' \
	"$(tail -n 1 "$OUT_FILE" | jq -r '"\(.event) \(.ok) \(.result) \(.reason)"')"
assert_eq "--json, refused: every server untouched (pending)" \
	'pending,pending,pending,pending' \
	"$(tail -n 1 "$OUT_FILE" | jq -r '[.servers[].state] | join(",")')"

e2e_done
