#!/usr/bin/env bash
# run.sh - side-by-side benchmarks (make bench; never part of make test).
#
# Each benchmark times cutover and "the usual way" (a socat process per
# runtime command, a shell loop) in the same run, interleaved round by
# round, and prints both and their RATIO: the machine is shared and noisy,
# so only numbers measured side by side are compared. Nothing here asserts
# a timing; the run fails only if the setup itself fails.
#
#   1. rtt:    one runtime command's round trip (median, p99): cutover's
#              rtapi client on one kept connection, a C client with one
#              connection per command (no fork), and a socat per command.
#   2. status: `cutover status --json` on 4 LBs x 500 servers, against
#              `show servers state` + `show stat` through socat, LB by LB;
#              and cutover on 1 LB against 4 LBs (the fan-out).
#   3. drain:  how long after the last session ends `drain --wait` returns,
#              against a `while scur != 0; do sleep 1; done` shell loop.
#   4. rollout: a rolling upgrade of 4 backends under load, `cutover
#              rollout` against the usual shell loop (shell-rolling.sh):
#              overhead per server beyond the upgrade hooks' own time, and
#              failed requests; run by rollout.sh (see there), after the
#              processes of 1-3 are stopped, in its own temp dir.
#   5. shed:   t1's half of 2000 long-lived TCP clients cut all at once
#              (`shutdown sessions server`) against `cutover shed --rate
#              R`: the peak of reconnects per 100 ms, the time until all
#              are back, the achieved rate against R, lost clients; run by
#              shed.sh (see there) in its own temp dir.
#   6. switch: a blue/green switch (map) on 4 LBs, a socat `set map` per
#              LB against `cutover switch`: the switch step itself (from
#              cutover's JSON events) and the whole command; run by
#              switch.sh (see there) in its own temp dir.
#
# Everything runs on 127.0.0.1 and free ports; tests/e2e/lib.sh starts the
# HAProxy instances and backends and stops every process it started, by
# PID, on exit. Takes about a minute and a half (half of it the rollout
# runs, a quarter the shed runs).
#
# Environment: BENCH_RTT_N (kept and one-connection round trips, 2000),
# BENCH_SOCAT_N (socat round trips, 200), BENCH_STATUS_RUNS (20),
# BENCH_DRAIN_REPS (5), BENCH_ROLLOUT_REPS (3), BENCH_ROLLOUT_CLIENTS (6),
# BENCH_SHED_CLIENTS (2000), BENCH_SHED_RATES ("100 500"),
# BENCH_SHED_JITTER_RATE (500), BENCH_SWITCH_RUNS (20); and lib.sh's
# (E2E_KEEP=1 keeps the temp dir).
#
# shellcheck source-path=SCRIPTDIR disable=SC2154,SC2317
# (SC2154: lib.sh and summ() set variables with printf -v; SC2317: the
# *_drain functions are called as "${way}_drain".)

# lib.sh is bash; `make bench` runs us with sh.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -eu

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$BENCH_DIR/../.."
PKGS="libuv jansson libcurl yaml-0.1"
RTT=build/bench/rtt

# ----------------------------------------------------------------------
# Build what the bench needs: cutover, the test backend, the timer.

JOBS=$(nproc 2>/dev/null || echo 2)
make -s -j"$JOBS" cutover tools
mkdir -p build/bench
# shellcheck disable=SC2046,SC2086
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Iinclude $(pkg-config --cflags $PKGS) -o "$RTT" "$BENCH_DIR/rtt.c" \
	build/libcutover.a $(pkg-config --libs $PKGS) -lm
RTT=$(pwd)/$RTT

RTT_N=${BENCH_RTT_N:-2000}
SOCAT_N=${BENCH_SOCAT_N:-200}
STATUS_RUNS=${BENCH_STATUS_RUNS:-20}
DRAIN_REPS=${BENCH_DRAIN_REPS:-5}
ROUNDS=4		# rounds the rtt samples are interleaved in
SERVERS=500		# servers in the big backend
BIG_LBS=4

E2E_DEADLINE=${E2E_DEADLINE:-240}
# shellcheck source=../e2e/lib.sh
. tests/e2e/lib.sh
e2e_init bench
command -v jq >/dev/null 2>&1 || e2e_bail "missing tool 'jq'"

# ----------------------------------------------------------------------
# Measuring and printing

# Microseconds since the epoch, without forking.
us_now() {
	echo "${EPOCHREALTIME//[!0-9]/}"
}

# summ FILE PREFIX: sets PREFIX_n, _median, _p99, _min, _max (microseconds)
# from the samples in FILE, one per line.
summ() {
	local line kv
	line=$("$RTT" stats <"$1") || e2e_bail "no samples in $1"
	for kv in $line; do
		printf -v "$2_${kv%%=*}" '%s' "${kv#*=}"
	done
}

# ratio A B: A / B, e.g. "131x" or "1.4x".
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b <= 0) { print "n/a"; exit }
		r = a / b
		printf (r >= 10 ? "%.0fx\n" : "%.2fx\n"), r
	}'
}

# ms MICROSECONDS: "12.3ms".
ms() {
	awk -v u="$1" 'BEGIN { printf "%.1fms\n", u / 1000 }'
}

# socat_cmd SOCK COMMAND: the usual one-shot: a socat per command.
socat_cmd() {
	echo "$2" | socat - "UNIX-CONNECT:$1"
}

# ----------------------------------------------------------------------
# Setup: one LB in front of one backend (rtt, drain) and BIG_LBS LBs with
# a backend of SERVERS servers (status).

start_backend b1 v1 --quiet
start_backend b2 v2 --quiet
start_lb lb1 "s1=$PORT_b1"
SOCK=$(lb_sock lb1)

for ((i = 1; i <= BIG_LBS; i++)); do
	{
		cat <<-EOF
		# generated by tests/bench/run.sh
		global
		    maxconn 500
		    stats socket $T/big$i.sock level admin
		    stats maxconn 50
		    stats timeout 30s

		defaults
		    mode http
		    timeout connect 1s
		    timeout client 30s
		    timeout server 30s

		backend many
		    balance roundrobin
		EOF
		# No health checks: status reads state, not check results.
		for ((s = 1; s <= SERVERS; s++)); do
			printf '    server m%d 127.0.0.1:%s\n' "$s" \
				"$([ $((s % 2)) = 1 ] && echo "$PORT_b1" || echo "$PORT_b2")"
		done
	} >"$T/big$i.cfg"
	start_lb_cfg "big$i" "$T/big$i.cfg"
done

echo "# haproxy: $("$HAPROXY" -v | head -n 1)"
echo "# cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

# ----------------------------------------------------------------------
# 1. One runtime command's round trip.

CMD="get weight app/s1"
reply=$(socat_cmd "$SOCK" "$CMD")
[[ $reply =~ ^[0-9]+\ \(initial ]] || e2e_bail "rtt: '$CMD' answered '$reply'"

: >"$T/rtt-kept"
: >"$T/rtt-oneshot"
: >"$T/rtt-socat"
for ((r = 0; r < ROUNDS; r++)); do
	"$RTT" kept "unix:$SOCK" $((RTT_N / ROUNDS)) "$CMD" >>"$T/rtt-kept" ||
		e2e_bail "rtt kept failed"
	"$RTT" oneshot "$SOCK" $((RTT_N / ROUNDS)) "$CMD" \
		>>"$T/rtt-oneshot" || e2e_bail "rtt oneshot failed"
	for ((i = 0; i < SOCAT_N / ROUNDS; i++)); do
		t0=$(us_now)
		socat_cmd "$SOCK" "$CMD" >/dev/null ||
			e2e_bail "rtt: socat failed"
		t1=$(us_now)
		echo $((t1 - t0)) >>"$T/rtt-socat"
	done
done
summ "$T/rtt-kept" kept
summ "$T/rtt-oneshot" one
summ "$T/rtt-socat" soc

echo
echo "== 1. '$CMD' round trip, unix socket, $ROUNDS interleaved rounds"
printf 'rtt     %-44s median %7sus  p99 %7sus  (n=%s)\n' \
	"cutover rtapi, one kept connection" "$kept_median" "$kept_p99" "$kept_n"
printf 'rtt     %-44s median %7sus  p99 %7sus  (n=%s)\n' \
	"C client, one connection per command" "$one_median" "$one_p99" "$one_n"
printf 'rtt     %-44s median %7sus  p99 %7sus  (n=%s)\n' \
	"socat one-shot per command (fork+exec)" "$soc_median" "$soc_p99" "$soc_n"
printf 'rtt     %-44s median %8s  p99 %8s\n' "ratio socat / cutover" \
	"$(ratio "$soc_median" "$kept_median")" "$(ratio "$soc_p99" "$kept_p99")"
printf 'rtt     %-44s median %8s  p99 %8s\n' "ratio one-connection / cutover" \
	"$(ratio "$one_median" "$kept_median")" "$(ratio "$one_p99" "$kept_p99")"

# ----------------------------------------------------------------------
# 2. status on SERVERS servers x BIG_LBS LBs.

LBS=()
SOCKS=()
for ((i = 1; i <= BIG_LBS; i++)); do
	LBS+=(--lb "unix:$(lb_sock "big$i")")
	SOCKS+=("$(lb_sock "big$i")")
done

# The usual way: both reads through socat, one LB after the other.
shell_status() {
	local s
	for s in "$@"; do
		echo 'show servers state' | socat - "UNIX-CONNECT:$s" || return 1
		echo 'show stat' | socat - "UNIX-CONNECT:$s" || return 1
	done
}

# Check once that both ways see every server before timing them.
timeout -k 2 30 "$CUTOVER" "${LBS[@]}" status --json >"$T/status.json" ||
	e2e_bail "status: cutover status on $BIG_LBS LBs failed" \
		"$(head -c 2000 "$T/status.json")"
n=$(grep -o '"m[0-9]*"' "$T/status.json" | sort -u | wc -l)
[ "$n" = "$SERVERS" ] ||
	e2e_bail "status: cutover's JSON names $n servers, want $SERVERS"
n=$(shell_status "${SOCKS[@]}" | awk -F, '$1 == "many" && $2 ~ /^m/' | wc -l)
[ "$n" = $((SERVERS * BIG_LBS)) ] ||
	e2e_bail "status: show stat gave $n server lines, want $((SERVERS * BIG_LBS))"

: >"$T/st-cut4"
: >"$T/st-sh4"
: >"$T/st-cut1"
: >"$T/st-sh1"
for ((r = 0; r < STATUS_RUNS; r++)); do
	t0=$(us_now)
	"$CUTOVER" "${LBS[@]}" status --json >/dev/null ||
		e2e_bail "status: cutover failed"
	t1=$(us_now)
	shell_status "${SOCKS[@]}" >/dev/null || e2e_bail "status: socat failed"
	t2=$(us_now)
	"$CUTOVER" "${LBS[@]:0:2}" status --json >/dev/null ||
		e2e_bail "status: cutover on one LB failed"
	t3=$(us_now)
	shell_status "${SOCKS[0]}" >/dev/null || e2e_bail "status: socat failed"
	t4=$(us_now)
	echo $((t1 - t0)) >>"$T/st-cut4"
	echo $((t2 - t1)) >>"$T/st-sh4"
	echo $((t3 - t2)) >>"$T/st-cut1"
	echo $((t4 - t3)) >>"$T/st-sh1"
done
summ "$T/st-cut4" c4
summ "$T/st-sh4" s4
summ "$T/st-cut1" c1
summ "$T/st-sh1" s1

echo
echo "== 2. status, backend of $SERVERS servers, wall time of the whole command, $STATUS_RUNS interleaved runs"
printf 'status  %-44s median %8s  max %8s  (n=%s)\n' \
	"cutover status --json, $BIG_LBS LBs (parallel)" \
	"$(ms "$c4_median")" "$(ms "$c4_max")" "$c4_n"
printf 'status  %-44s median %8s  max %8s  (n=%s)\n' \
	"socat state+stat, $BIG_LBS LBs one by one" \
	"$(ms "$s4_median")" "$(ms "$s4_max")" "$s4_n"
printf 'status  %-44s median %8s  max %8s\n' "ratio socat / cutover, $BIG_LBS LBs" \
	"$(ratio "$s4_median" "$c4_median")" "$(ratio "$s4_max" "$c4_max")"
printf 'status  %-44s median %8s  max %8s  (n=%s)\n' \
	"cutover status --json, 1 LB" \
	"$(ms "$c1_median")" "$(ms "$c1_max")" "$c1_n"
printf 'status  %-44s median %8s  max %8s  (n=%s)\n' \
	"socat state+stat, 1 LB" \
	"$(ms "$s1_median")" "$(ms "$s1_max")" "$s1_n"
printf 'status  %-44s median %8s  max %8s\n' "ratio socat / cutover, 1 LB" \
	"$(ratio "$s1_median" "$c1_median")" "$(ratio "$s1_max" "$c1_max")"
printf 'status  %-44s median %8s  (socat: %s; %s would be linear)\n' \
	"cutover $BIG_LBS LBs / 1 LB" "$(ratio "$c4_median" "$c1_median")" \
	"$(ratio "$s4_median" "$s1_median")" "${BIG_LBS}x"

# ----------------------------------------------------------------------
# 3. drain --wait: lag between the last session's end and the return.

wait_lb_up lb1
FE=$FEPORT_lb1

# The usual way: drain, then poll scur once a second.
shell_drain() {
	local n=0
	echo 'set server app/s1 state drain' | socat - "UNIX-CONNECT:$SOCK" \
		>/dev/null || return 1
	while [ "$(echo 'show stat' | socat - "UNIX-CONNECT:$SOCK" |
		awk -F, '$1 == "app" && $2 == "s1" { print $5 }')" != 0 ]; do
		sleep 1
		n=$((n + 1))
		[ "$n" -lt 30 ] || return 1
	done
}

cutover_drain() {
	timeout -k 2 30 "$CUTOVER" --lb "unix:$SOCK" drain app/s1 --wait \
		--timeout 20s >/dev/null
}

# drain_once WAY OFFSET_MS: a 1000 ms request through lb1; once it is on
# s1, wait OFFSET_MS, drain with WAY and wait; appends the lag (drain's
# return minus the request's completion, us) to $T/drain-WAY.
drain_once() {
	local way="$1" off="$2" end code cend
	bg_run slow bash -c "curl -s -o /dev/null -w '%{http_code}' \
		'http://127.0.0.1:$FE/slow?ms=1000'; echo \" \${EPOCHREALTIME//[!0-9]/}\""
	wait_for "slow request on s1" 5 output_is 1 srv_scur lb1 app/s1
	sleep "$(awk -v m="$off" 'BEGIN { printf "%.3f", m / 1000 }')"
	"${way}_drain" || e2e_bail "drain: $way drain failed"
	end=$(us_now)
	bg_wait slow 10
	code=${OUT%% *}
	cend=${OUT##* }
	[ "$code" = 200 ] || e2e_bail "drain: held request answered '$OUT'"
	echo $((end - cend)) >>"$T/drain-$way"
	lb_cmd lb1 "set server app/s1 state ready" >/dev/null
	wait_for "s1 ready again" 5 output_is ready srv_admin lb1 app/s1
}

# The drain starts at offsets spread over the request's life, the same
# ones for both ways: a once-a-second poll's lag depends on that phase.
: >"$T/drain-cutover"
: >"$T/drain-shell"
for ((r = 0; r < DRAIN_REPS; r++)); do
	off=$((r * 700 / (DRAIN_REPS > 1 ? DRAIN_REPS - 1 : 1)))
	drain_once cutover "$off"
	drain_once shell "$off"
done
summ "$T/drain-cutover" dc
summ "$T/drain-shell" ds

echo
echo "== 3. drain --wait reaction: return time minus the held request's end, $DRAIN_REPS interleaved reps"
printf 'drain   %-44s median %8s  max %8s  (n=%s)\n' \
	"cutover drain --wait (poll 50ms)" \
	"$(ms "$dc_median")" "$(ms "$dc_max")" "$dc_n"
printf 'drain   %-44s median %8s  max %8s  (n=%s)\n' \
	"shell: socat show stat, sleep 1 loop" \
	"$(ms "$ds_median")" "$(ms "$ds_max")" "$ds_n"
printf 'drain   %-44s median %8s  max %8s\n' "ratio shell / cutover" \
	"$(ratio "$ds_median" "$dc_median")" "$(ratio "$ds_max" "$dc_max")"

# ----------------------------------------------------------------------

echo
# lib.sh's cleanup (stop every process by PID, remove $T) without
# e2e_done's pass/fail line: a benchmark has no verdict to print.
_e2e_cleanup
_E2E_DONE=1

# 4. The rolling upgrade: its own script, processes and temp dir.
bash "$BENCH_DIR/rollout.sh" || {
	echo "bench: the rollout benchmark failed (exit $?)"
	exit 1
}

# 5. Paced shedding: its own script, processes and temp dir.
bash "$BENCH_DIR/shed.sh" || {
	echo "bench: the shed benchmark failed (exit $?)"
	exit 1
}

# 6. The blue/green switch: its own script, processes and temp dir.
bash "$BENCH_DIR/switch.sh" || {
	echo "bench: the switch benchmark failed (exit $?)"
	exit 1
}

echo
echo "bench: done"
exit 0
