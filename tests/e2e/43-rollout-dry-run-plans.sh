#!/usr/bin/env bash
# 43-rollout-dry-run-plans: `cutover rollout --dry-run` and broken plan
# files, behind two HAProxy instances (unix and TCP sockets).
#   - A dry run prints every runtime command, the expanded hook argv, the
#     probe URL and a capacity line per batch, runs no hook and changes
#     nothing (LB states and backend processes identical before/after).
#   - A dry run of a plan that would go below min_serving exits 1 and says
#     REFUSED.
#   - Broken plans (syntax error, unknown key, bad duration, tab indent,
#     key given twice, bad placeholder, shell-string hook, a server not in
#     the backend, a server missing on one LB, a glob matching nothing)
#     exit 2 with "FILE:LINE:COLUMN: ...", run no hook, change nothing.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 43-rollout-dry-run-plans

ALL="web1 web2 web3 web4"
for s in $ALL; do start_backend "$s" v1; done
SPECS=("web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3" "web4=$PORT_web4")
start_lb lb1 "${SPECS[@]}"
start_lb lb2 "${SPECS[@]}"
start_lb lb3 "web1=$PORT_web1" "web2=$PORT_web2" "web3=$PORT_web3"	# no web4
wait_lb_up lb1
wait_lb_up lb2
wait_lb_up lb3
L1="unix:$(lb_sock lb1)"
L3="unix:$(lb_sock lb3)"
LBS=(--lb "$L1" --lb "tcp:$(lb_sock lb2 tcp)")
HOOK=$E2E_LIB_DIR/hooks/restart-backend.sh

states() {
	local lb
	for lb in lb1 lb2 lb3; do
		lb_cmd "$lb" "show servers state" |
			awk -v lb="$lb" 'NF > 8 && $1 !~ /^#/ { print lb, $2 "/" $4, $6, $7, $8 }'
	done
}
pids() {
	local s
	for s in $ALL; do printf '%s=%s ' "$s" "$(cat "$T/be-$s.pid")"; done
}
# A little prior state, so that "unchanged" is not just "all default".
lb_cmd lb2 "set weight app/web3 7" >/dev/null
before=$(states)
pids_before=$(pids)
# traces: the files hooks that must not run would have left (ran-*).
traces() {
	local f
	for f in "$T"/ran-*; do [ -e "$f" ] && echo "${f##*/}"; done
	return 0
}
unchanged() {
	assert_eq "$1: nothing changed on any LB" "$before" "$(states)"
	assert_eq "$1: no backend restarted" "$pids_before" "$(pids)"
	assert_eq "$1: no hook ran" "" "$(traces)"
}

# ---- dry run ---------------------------------------------------------------
# plan FILE MIN_SERVING
plan() {
	cat >"$1" <<PLAN
backend: app
servers: all
rolling: { batch: 2, min_serving: $2 }
drain: { timeout: 30s, on_timeout: kill }
hooks:
  before_drain: [touch, "$T/ran-before_drain-{server}"]
  upgrade: [bash, $HOOK, $T, $TOOLS, "{server}", "{port}", v2, --fail-file, "$T/ran-fail-{server}"]
  on_failure: [touch, "$T/ran-on_failure-{server}"]
probe:
  http: { url: "http://{addr}:{port}/version", expect: 200, body: v2 }
  rise: 2
  interval: 100ms
  deadline: 20s
watch: { for: 2s, max_5xx: 0 }
PLAN
}
plan "$T/dry.yaml" 2
assert_rc "dry run: exit 0" 0 "$CUTOVER" "${LBS[@]}" rollout "$T/dry.yaml" --dry-run
assert_match "dry run: says nothing is changed" "^dry run: nothing is changed\\." "$OUT"
assert_match "dry run: the plan line" \
	"plan $T/dry.yaml: 4 servers of backend app, strategy drain, batch 2, min_serving 2, on 2 load balancers" "$OUT"
assert_match "dry run: capacity line of batch 1" \
	"batch 1/2: in service 4, during the batch 2 \\(min_serving 2\\)"$'\n' "$OUT"
assert_match "dry run: capacity line of batch 2" \
	"batch 2/2: in service 4, during the batch 2 \\(min_serving 2\\)"$'\n' "$OUT"
for s in $ALL; do
	p=PORT_$s
	flat=$(tr '\n' '|' <<<"$OUT" | sed "s/.*  app\\/$s (addr/app\\/$s (addr/; s/|  app\\/web.*//")
	assert_match "dry run $s: addr and port" "^app/$s \\(addr 127\\.0\\.0\\.1, port ${!p}, peer web[0-9]\\)" "$flat"
	assert_match "dry run $s: before_drain hook argv" \
		"\\|    hook before_drain: touch $T/ran-before_drain-$s\\|" "$flat"
	assert_match "dry run $s: drain command" "\\|    on every LB: set server app/$s state drain\\|" "$flat"
	assert_match "dry run $s: the wait and the kill at its deadline" \
		"wait until 0 sessions on every LB .* then kill: .*\\(at the deadline\\) on every LB: shutdown sessions server app/$s\\|" "$flat"
	assert_match "dry run $s: maint command" "\\|    on every LB: set server app/$s state maint\\|" "$flat"
	assert_match "dry run $s: upgrade hook argv, placeholders expanded" \
		"\\|    hook upgrade: bash $HOOK $T $TOOLS $s ${!p} v2 --fail-file $T/ran-fail-$s\\|" "$flat"
	assert_match "dry run $s: probe URL" \
		"\\|    probe http: GET http://127\\.0\\.0\\.1:${!p}/version expect 200 and body containing 'v2'\\|" "$flat"
	assert_match "dry run $s: ready command" "\\|    on every LB: set server app/$s state ready\\|" "$flat"
	assert_match "dry run $s: watch" "\\|    watch 2(\\.0)?s: 5xx <= 0" "$flat"
	assert_match "dry run $s: in order" \
		"before_drain.*state drain.*state maint.*hook upgrade.*probe http.*state ready.*watch" "$flat"
done
assert_match "dry run: ends saying it can run" "dry run: the plan can run as shown\\.$" "$OUT"
unchanged "dry run"

plan "$T/dry-floor.yaml" 3
assert_rc "dry run below min_serving: exit 1" 1 "$CUTOVER" "${LBS[@]}" rollout "$T/dry-floor.yaml" --dry-run
assert_match "dry run below min_serving: says REFUSED" \
	"batch 1/2: in service 4, during the batch 2 \\(min_serving 3\\): REFUSED, below the floor" "$OUT"
assert_match "dry run below min_serving: says where it would stop" \
	"dry run: the run would stop at the capacity floor\\." "$OUT"
unchanged "dry run below min_serving"

# ---- broken plans --------------------------------------------------------
# broken NAME EXIT REGEX [LB ARGS...]: the plan $T/NAME.yaml (already
# written) is refused with EXIT and a message matching
# "^cutover: [error: ]$T/NAME.yaml:REGEX"; nothing ran, nothing changed.
broken() {
	local name=$1 want=$2 re=$3 f=$T/$1.yaml
	shift 3
	[ $# -gt 0 ] || set -- "${LBS[@]}"
	assert_rc "$name: exit $want" "$want" "$CUTOVER" "$@" rollout "$f" --yes
	assert_match "$name: FILE:LINE:COLUMN: message" "^cutover: (error: )?$f:$re" "$ERR"
	assert_eq "$name: nothing on stdout" "" "$OUT"
	unchanged "$name"
}
# The tail every plan shares (hooks that would leave a trace if run).
TAIL="hooks:
  before_drain: [touch, \"$T/ran-before_drain-{server}\"]
  upgrade: [touch, \"$T/ran-upgrade-{server}\"]"

printf 'backend: app\nservers: [web1, web2\nstrategy: drain\n%s\n' "$TAIL" >"$T/syntax.yaml"
broken syntax 2 "3:[0-9]+: did not find expected ',' or ']'"

printf 'backend: app\ndrain:\n  tiemout: 5s\n%s\n' "$TAIL" >"$T/unknown-key.yaml"
broken unknown-key 2 "3:3: unknown key 'tiemout' in drain \\(expected timeout, on_timeout, shed_rate\\)"

printf 'backend: app\nrolling: { batch: 1 }\ndrain:\n  timeout: soon\n%s\n' "$TAIL" >"$T/bad-duration.yaml"
broken bad-duration 2 "4:12: drain.timeout: expected a duration like 30s or 5m, got 'soon'"

printf 'backend: app\nrolling:\n\tbatch: 2\n%s\n' "$TAIL" >"$T/tab.yaml"
broken tab 2 "3:1: tab character"

printf 'backend: app\nservers: all\nservers: [web1]\n%s\n' "$TAIL" >"$T/twice.yaml"
broken twice 2 "3:1: duplicate key 'servers'"

printf 'backend: app\n%s\n  after_drain: [echo, "{srever}"]\n' "$TAIL" >"$T/placeholder.yaml"
broken placeholder 2 "5:[0-9]+: .*srever"

printf 'backend: app\nhooks:\n  upgrade: "ssh {addr} upgrade"\n' >"$T/shell-string.yaml"
broken shell-string 2 "3:12: "

printf 'backend: app\nservers: [web1, nope]\n%s\n' "$TAIL" >"$T/no-server.yaml"
broken no-server 2 "2:[0-9]+: server 'nope' is not in backend 'app' on $L1$"

printf 'backend: app\nservers: [web1, web4]\n%s\n' "$TAIL" >"$T/missing-on-lb3.yaml"
broken missing-on-lb3 2 "2:[0-9]+: server 'web4' is not in backend 'app' on $L3$" --lb "$L1" --lb "$L3"

printf 'backend: app\nservers: "db*"\n%s\n' "$TAIL" >"$T/no-match.yaml"
broken no-match 2 "2:[0-9]+: no server of backend 'app' matches"

e2e_done
