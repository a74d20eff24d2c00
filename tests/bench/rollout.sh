#!/usr/bin/env bash
# rollout.sh - rolling-upgrade benchmark (run by run.sh, i.e. make bench;
# also runs alone once `make cutover tools` is done).
#
# The same rolling upgrade of 4 test backends behind one HAProxy, under
# continuous keep-alive load through the frontend, done by the usual shell
# loop (shell-rolling.sh: socat per command, `show stat` polled every 1 s,
# /health polled every 1 s) and by `cutover rollout`, for two load shapes:
# requests that take 0 ms (GET /) and 200 ms (GET /slow?ms=200).
#
# Both run the same upgrade hook (tests/e2e/hooks/restart-backend.sh: stop
# the backend, start the new version on the same port) wrapped in
# timed-hook.sh, which records each hook's own wall time. Reported per run:
# total wall time, the hooks' time, the overhead per server
# = (total - sum of hook times) / servers, and the load's failed and
# retried requests; per shape the ratio shell / cutover of the overheads,
# and cutover's overhead against the target "longest in-flight request
# + 0.1 s per server". Informative only: nothing here asserts a time. The
# run fails only if the setup fails or an upgrade does not happen (a
# rollout that exits non-zero, a backend not on the new version).
#
# The order alternates (shape 1: shell then cutover; shape 2: cutover then
# shell; reversed on the next repetition) to spread the drift of a shared
# machine over both tools.
#
# Environment: BENCH_ROLLOUT_REPS (repetitions of the 4 runs, default 3),
# BENCH_ROLLOUT_CLIENTS (loadgen clients, default 6); lib.sh's E2E_KEEP=1
# keeps the temp dir (plans, cutover's JSON events, loadgen reports).
#
# shellcheck source-path=SCRIPTDIR disable=SC2154,SC2317
# (SC2154: lib.sh sets PORT_*, FEPORT_* with printf -v; SC2317: the do_*
# functions are called as "do_$way".)

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -eu

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$BENCH_DIR/../.."

# Run under reaper.c (a child subreaper): the upgrade hook leaves each new
# backend orphaned, and the next upgrade polls `kill -0` until the old one
# is gone, a zombie included; a PID 1 that reaps late would add its delay
# to every hook (see reaper.c).
if [ -z "${BENCH_UNDER_REAPER:-}" ]; then
	mkdir -p build/bench
	cc -std=c11 -O2 -Wall -Wextra -o build/bench/reaper \
		"$BENCH_DIR/reaper.c" || exit 1
	BENCH_UNDER_REAPER=1 exec build/bench/reaper bash "$0" "$@"
fi

REPS=${BENCH_ROLLOUT_REPS:-3}
CLIENTS=${BENCH_ROLLOUT_CLIENTS:-6}
SERVERS=(web1 web2 web3 web4)
NS=${#SERVERS[@]}

E2E_DEADLINE=${E2E_DEADLINE:-$((40 + REPS * 45))}
# shellcheck source=../e2e/lib.sh
. tests/e2e/lib.sh
e2e_init bench-rollout
command -v jq >/dev/null 2>&1 || e2e_bail "missing tool 'jq'"
HOOK=$E2E_LIB_DIR/hooks/restart-backend.sh
TIMED=$BENCH_DIR/timed-hook.sh

SPECS=()
for s in "${SERVERS[@]}"; do
	start_backend "$s" v0 --quiet
	v=PORT_$s
	SPECS+=("$s=${!v}")
done
start_lb lb1 "${SPECS[@]}"
wait_lb_up lb1
SOCK=$(lb_sock lb1)
FE=$FEPORT_lb1

# ----------------------------------------------------------------------
# One run

VERSION=0

# cutover_plan VERSION HOOKFILE PATH: roll every server of app to VERSION,
# probing /health like the shell loop (every 100 ms, one pass), no watch.
cutover_plan() {
	cat >"$3" <<-PLAN
	backend: app
	servers: all
	rolling: { batch: 1, min_serving: 3 }
	drain: { timeout: 30s, on_timeout: fail }
	hooks:
	  timeout: 30s
	  upgrade: [bash, $TIMED, $2, bash, $HOOK, $T, $TOOLS, "{server}", "{port}", $1, --quiet]
	probe:
	  http: { url: "http://{addr}:{port}/health", expect: 200 }
	  rise: 1
	  interval: 100ms
	  timeout: 1s
	  deadline: 20s
	PLAN
}

do_shell() {
	local ver=$1 hooks=$2 tag=$3
	timeout -k 2 90 bash "$BENCH_DIR/shell-rolling.sh" "$SOCK" app \
		bash "$TIMED" "$hooks" bash "$HOOK" "$T" "$TOOLS" '{server}' \
		'{port}' "$ver" --quiet >"$T/$tag.out" 2>"$T/$tag.err" ||
		e2e_bail "$tag: shell-rolling.sh failed" \
			"$(cat "$T/$tag.out" "$T/$tag.err")"
}

do_cutover() {
	local ver=$1 hooks=$2 tag=$3
	cutover_plan "$ver" "$hooks" "$T/$tag.yaml"
	timeout -k 2 90 "$CUTOVER" --lb "unix:$SOCK" rollout "$T/$tag.yaml" \
		--yes --json >"$T/$tag.out" 2>"$T/$tag.err" ||
		e2e_bail "$tag: cutover rollout failed (exit $?)" \
			"$(tail -n 20 "$T/$tag.out")" "$(tail -n 20 "$T/$tag.err")"
}

# sum_ms FILE: the sum of timed-hook.sh's "ms=N" lines.
sum_ms() {
	awk '{ sub(/^ms=/, "", $1); s += $1; n++ }
		END { if (n != ns) exit 1; print s }' ns="$NS" "$1"
}

# field KEY FILE: KEY=VALUE from a loadgen report line.
field() {
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2"
}

# run_one WAY SHAPE_INDEX REP: a whole rolling upgrade by WAY (shell or
# cutover) under load of shape SHAPE_INDEX; appends a result line to
# $T/results: "shape way total_ms hook_ms requests failed retried max_ms".
run_one() {
	local way=$1 si=$2 rep=$3 ver tag stop t0 t1 hooks hook_ms s v got
	VERSION=$((VERSION + 1))
	ver=v$VERSION
	tag=$way-$si-$rep
	stop=$T/stop-$tag
	hooks=$T/hooks-$tag
	: >"$hooks"
	bg_run "load_$VERSION" "$TOOLS/loadgen" \
		--url "http://127.0.0.1:$FE${PATHS[si]}" --clients "$CLIENTS" \
		--until-file "$stop" --timeout 10s --report "$T/load-$tag"
	sleep 0.5	# the load is flowing before the run starts
	t0=$(now_ms)
	"do_$way" "$ver" "$hooks" "$tag"
	t1=$(now_ms)
	sleep 0.3
	touch "$stop"
	bg_wait "load_$VERSION" 20
	[ -s "$T/load-$tag" ] || e2e_bail "$tag: no loadgen report" "$ERR"
	hook_ms=$(sum_ms "$hooks") ||
		e2e_bail "$tag: want $NS hook times" "$(cat "$hooks")"
	for s in "${SERVERS[@]}"; do
		v=PORT_$s
		got=$(curl -s --max-time 2 "http://127.0.0.1:${!v}/version") || true
		[ "$got" = "$ver" ] || e2e_bail "$tag: $s answers '$got', want $ver"
		got=$(srv_admin lb1 "app/$s") || true
		[ "$got" = ready ] || e2e_bail "$tag: $s is '$got' after the run"
	done
	echo "$si $way $((t1 - t0)) $hook_ms $(field requests "$T/load-$tag")" \
		"$(field failed "$T/load-$tag") $(field retried "$T/load-$tag")" \
		"$(field max_ms "$T/load-$tag")" >>"$T/results"
	if [ "$way" = cutover ]; then
		phases "$T/$tag.out" "$t0" "$t1" "$hook_ms" >>"$T/phases-$si"
	else
		grep ' upgraded: ' "$T/$tag.out" | sed 's/^shell-rolling: //' \
			>>"$T/shell-$si" || true
	fi
	wait_lb_up lb1 app 10	# every check passed before the next run
}

# phases JSONFILE T0 T1 HOOK_MS: where cutover's time went besides the
# hooks, from its JSON events (wall-clock "ts"): the time spent in each
# state summed over the servers (upgrading minus the hooks' own time;
# pending, which overlaps the other servers' turns, left out), before the
# first state change (start, validation against the LB), between one
# server's end and the next one's start (capacity check) and after the
# last (summary, exit). The parts add up to total - hooks.
phases() {
	jq -rs --argjson t0 "$2" --argjson t1 "$3" --argjson hk "$4" '
		[.[] | select(.event == "state")] as $ev
		| (reduce range(0; $ev | length) as $i ({};
			($ev[$i]) as $e
			| ([$ev[$i + 1:][] | select(.server == $e.server)][0]) as $n
			| if $n == null then . else
				.[$e.to] += ($n.ts - $e.ts) end)) as $per
		| ($per | del(.pending) | map_values(. * 1000)
		   | .upgrading -= $hk) as $busy
		| ($ev[0].ts * 1000 - $t0) as $pre
		| ($t1 - $ev[-1].ts * 1000) as $post
		| ($t1 - $t0 - $hk - $pre - $post - ([$busy[]] | add)) as $gaps
		| "start \($pre | floor) " +
		  ([$busy | to_entries[]
		    | "\(if .key == "upgrading" then "upgrading-hooks"
			 else .key end) \(.value | floor)"]
		   | join(" ")) +
		  " between_servers \($gaps | floor) end \($post | floor)"' "$1"
}

SHAPES=("0 ms" "200 ms")
PATHS=("/" "/slow?ms=200")
INFLIGHT_MS=(0 200)
: >"$T/results"

echo "# rollout: $NS servers behind 1 HAProxy, $CLIENTS keep-alive clients," \
	"$REPS repetition(s); cpus $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((rep = 0; rep < REPS; rep++)); do
	for si in 0 1; do
		if [ $(((si + rep) % 2)) = 0 ]; then
			run_one shell "$si" "$rep"
			run_one cutover "$si" "$rep"
		else
			run_one cutover "$si" "$rep"
			run_one shell "$si" "$rep"
		fi
	done
done

# ----------------------------------------------------------------------
# Report

s3() {
	awk -v m="$1" 'BEGIN { printf "%.2fs\n", m / 1000 }'
}

echo
echo "== 4. rolling upgrade of $NS servers under load: overhead per server = (wall time - upgrade hooks' own time) / $NS"
for si in 0 1; do
	target=$((INFLIGHT_MS[si] + 100))
	for way in shell cutover; do
		n=0
		while read -r s w total hook req failed retried max; do
			if [ "$s" != "$si" ] || [ "$w" != "$way" ]; then
				continue
			fi
			n=$((n + 1))
			printf 'rollout %-7s %-7s run %d  total %7s  hooks %6s  overhead/server %6s  requests %6s  failed %s  retried %s  max %sms\n' \
				"${SHAPES[si]}" "$way" "$n" "$(s3 "$total")" \
				"$(s3 "$hook")" "$(s3 $(((total - hook) / NS)))" \
				"$req" "$failed" "$retried" "$max"
		done <"$T/results"
	done
	# Means over the repetitions.
	read -r sh_ov cu_ov bad <<<"$(awk -v si="$si" -v ns="$NS" '
		$1 == si { o[$2] += ($3 - $4) / ns; c[$2]++; bad += $6 + $7 }
		END { printf "%d %d %d\n", o["shell"] / c["shell"],
			o["cutover"] / c["cutover"], bad }' "$T/results")"
	printf 'rollout %-7s %-48s shell %6s  cutover %6s  ratio %s\n' \
		"${SHAPES[si]}" "overhead/server, mean of $REPS" \
		"$(s3 "$sh_ov")" "$(s3 "$cu_ov")" \
		"$(awk -v a="$sh_ov" -v b="$cu_ov" 'BEGIN {
			if (b <= 0) print "n/a"; else printf "%.1fx\n", a / b }')"
	printf 'rollout %-7s %-48s cutover %s vs target %s (%s), failed+retried %s (target 0)\n' \
		"${SHAPES[si]}" "target: in-flight ${INFLIGHT_MS[si]}ms + 0.1s per server" \
		"$(s3 "$cu_ov")" "$(s3 "$target")" \
		"$([ "$cu_ov" -le "$target" ] && echo met || echo MISSED)" "$bad"
	awk '{ for (i = 1; i < NF; i += 2) { t[$i] += $(i + 1); if (!($i in o)) { o[$i] = ++k; n[k] = $i } } r++ }
		END { printf "rollout %-7s cutover overhead, ms per run (all servers, mean of %d):", sh, r
			for (i = 1; i <= k; i++) printf " %s %d", n[i], t[n[i]] / r
			printf "\n" }' sh="${SHAPES[si]}" "$T/phases-$si"
	head -n "$NS" "$T/shell-$si" |
		sed "s/^/rollout ${SHAPES[si]}  shell, run 1: /"
done

_e2e_cleanup
_E2E_DONE=1
exit 0
