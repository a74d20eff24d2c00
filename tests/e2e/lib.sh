# lib.sh - helpers the end-to-end tests source: a private temp dir, real
# HAProxy instances and test backends on free 127.0.0.1 ports, runtime-API
# readers, TAP-like assertions and a cleanup trap that stops, by PID, every
# process the test started (never by name).
#
# Usage, from tests/e2e/NN-name.sh:
#
#	#!/usr/bin/env bash
#	set -eu
#	. "$(dirname "$0")/lib.sh"
#	e2e_init 10-drain
#	start_backend b1 v1
#	start_lb lb1 "s1=$PORT_b1"
#	assert_rc "drain works" 0 "$CUTOVER" drain ...
#	e2e_done
#
# Environment:
#	CUTOVER         binary under test (default $REPO/cutover)
#	TOOLS           directory of built test tools (default $REPO/build/tools)
#	HAPROXY         haproxy binary (default /usr/sbin/haproxy)
#	E2E_TIME_MULT   multiplies every setup wait and the deadline (default 1)
#	E2E_DEADLINE    seconds the whole test may take (default 180)
#	E2E_CMD_TIMEOUT seconds assert_rc lets an external command run (60)
#	E2E_KEEP=1      keep $T after the test (logs, configs, sockets)
#	LB_GLOBAL_EXTRA, LB_DEFAULTS_EXTRA, LB_SERVER_OPTS, LB_CFG_EXTRA
#	                extra text for the config start_lb writes (see there)
#
# Rules the helpers follow: every wait is bounded, all traffic stays on
# loopback, and assertions and start_* must run in the test's own shell
# (not inside $(...)), because they set variables and counters.
#
# shellcheck shell=bash disable=SC2034

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_LIB_DIR/../.." && pwd)
CUTOVER=${CUTOVER:-$REPO/cutover}
TOOLS=${TOOLS:-$REPO/build/tools}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
E2E_TIME_MULT=${E2E_TIME_MULT:-1}
E2E_DEADLINE=${E2E_DEADLINE:-180}
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-60}

T=
OUT=
ERR=
RC=
_E2E_NAME=
_E2E_N=0
_E2E_PASS=0
_E2E_FAIL=0
_E2E_DONE=0
_E2E_BAILED=0
_E2E_CLEANED=0
_E2E_WATCHDOG=

# ----------------------------------------------------------------------
# Time

# Milliseconds since the epoch, without forking.
_e2e_now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((t / 1000))
}

# now_ms: milliseconds since the epoch (for measuring, e.g. elapsed time).
now_ms() {
	_e2e_now_ms
}

# SECONDS (may be fractional) scaled by E2E_TIME_MULT, in milliseconds.
_e2e_ms() {
	awk -v s="$1" -v m="$E2E_TIME_MULT" 'BEGIN { printf "%d\n", s * m * 1000 }'
}

# ----------------------------------------------------------------------
# Assertions (TAP-like). They always return 0 so that a failed assertion
# does not end a `set -e` test; the summary line carries the verdict.

# ok DESC
ok() {
	_E2E_N=$((_E2E_N + 1))
	_E2E_PASS=$((_E2E_PASS + 1))
	echo "ok $_E2E_N - $1"
}

# not_ok DESC [DETAIL...]: each DETAIL is printed as a "#" line.
not_ok() {
	local d line
	_E2E_N=$((_E2E_N + 1))
	_E2E_FAIL=$((_E2E_FAIL + 1))
	echo "not ok $_E2E_N - $1"
	shift
	for d in "$@"; do
		while IFS= read -r line; do
			echo "#   $line"
		done <<<"$d"
	done
}

# assert_eq DESC EXPECTED ACTUAL
assert_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: '$2'" "     got: '$3'"
	fi
}

# assert_match DESC REGEX ACTUAL: bash ERE (=~) against the whole string.
assert_match() {
	if [[ $3 =~ $2 ]]; then
		ok "$1"
	else
		not_ok "$1" "expected to match: /$2/" "                got: '$3'"
	fi
}

# assert_rc DESC EXPECTED_RC CMD...: runs CMD with stdin from /dev/null;
# afterwards RC holds its status, OUT and ERR its stdout and stderr (also in
# the files $OUT_FILE and $ERR_FILE). An external CMD is killed after
# E2E_CMD_TIMEOUT seconds (RC 124); a shell function runs as is.
assert_rc() {
	local desc=$1 want=$2 secs
	shift 2
	OUT_FILE=$T/last.out
	ERR_FILE=$T/last.err
	RC=0
	if [ "$(type -t "$1")" = function ]; then
		"$@" <"/dev/null" >"$OUT_FILE" 2>"$ERR_FILE" || RC=$?
	else
		secs=$(($(_e2e_ms "$E2E_CMD_TIMEOUT") / 1000))
		timeout -k 5 "$secs" "$@" </dev/null >"$OUT_FILE" \
			2>"$ERR_FILE" || RC=$?
	fi
	OUT=$(cat "$OUT_FILE")
	ERR=$(cat "$ERR_FILE")
	if [ "$RC" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc" "command: $*" "expected exit status $want, got $RC" \
			"stdout: $(head -c 2000 "$OUT_FILE")" \
			"stderr: $(head -c 2000 "$ERR_FILE")"
	fi
}

# e2e_bail MESSAGE: a failed setup step; records a failure and ends the
# test (the EXIT trap cleans up and prints the summary).
e2e_bail() {
	not_ok "$1" "${@:2}"
	_E2E_BAILED=1
	exit 1
}

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: runs COMMAND (output discarded)
# every 0.05 s until it succeeds; after TIMEOUT_S (scaled) the test bails.
# For setup only, never as a timed assertion on the product.
wait_for() {
	local desc=$1 deadline
	deadline=$(($(_e2e_now_ms) + $(_e2e_ms "$2")))
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(_e2e_now_ms)" -ge "$deadline" ]; then
			e2e_bail "timed out waiting for: $desc" "command: $*"
		fi
		sleep 0.05
	done
}

# output_is EXPECTED COMMAND...: succeeds if COMMAND prints exactly
# EXPECTED; a predicate for wait_for.
output_is() {
	local want=$1 got
	shift
	got=$("$@" 2>/dev/null) || return 1
	[ "$got" = "$want" ]
}

# ----------------------------------------------------------------------
# Process tracking. $T/pids holds "PID STARTTIME LABEL" lines; the start
# time (from /proc) guards against signalling a recycled PID.

_e2e_starttime() {
	local s
	local -a f
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) }
	read -r -a f <<<"$s"
	echo "${f[19]}"
}

# True if PID is still the process that was recorded (zombies count as
# gone).
_e2e_is_ours() {
	local s
	local -a f
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) }
	read -r -a f <<<"$s"
	[ "${f[0]}" != Z ] && [ "${f[19]}" = "$2" ]
}

# _e2e_descendants PID [SKIP]: PIDs below PID, leaving out the SKIP subtree.
_e2e_descendants() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		[ "$c" = "${2:-}" ] && continue
		echo "$c"
		_e2e_descendants "$c" "${2:-}"
	done
}

# e2e_track PID LABEL: have the cleanup stop PID.
e2e_track() {
	local st
	st=$(_e2e_starttime "$1") || return 0	# already gone
	echo "$1 $st $2" >>"$T/pids"
}

# Bounded wait until PID (our child or not) has exited; 1 on timeout.
_e2e_wait_gone() {
	local pid=$1 st=$2 deadline
	deadline=$(($(_e2e_now_ms) + $3))
	while _e2e_is_ours "$pid" "$st"; do
		[ "$(_e2e_now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
	return 0
}

# Stops every tracked process: TERM, a bounded wait, then KILL.
_e2e_stop_all() {
	local pid st label child cst rest left deadline i
	local -a pids=() sts=() labels=()

	[ -n "$T" ] && [ -f "$T/pids" ] || return 0
	# HAProxy masters: add their current workers (they change on reload).
	while read -r pid st label; do
		case $label in
		"haproxy "*" master")
			_e2e_is_ours "$pid" "$st" || continue
			for child in $(pgrep -P "$pid" 2>/dev/null); do
				cst=$(_e2e_starttime "$child") &&
					echo "$child $cst ${label% master} worker" \
						>>"$T/pids"
			done
			;;
		esac
	done <"$T/pids"
	while read -r pid st rest; do
		pids+=("$pid")
		sts+=("$st")
		labels+=("$rest")
	done <"$T/pids"

	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		_e2e_is_ours "${pids[i]}" "${sts[i]}" &&
			kill -TERM "${pids[i]}" 2>/dev/null
	done
	deadline=$(($(_e2e_now_ms) + $(_e2e_ms 5)))
	for ((i = 0; i < ${#pids[@]}; i++)); do
		left=$((deadline - $(_e2e_now_ms)))
		[ "$left" -lt 0 ] && left=0
		_e2e_wait_gone "${pids[i]}" "${sts[i]}" "$left" && continue
		echo "# ${labels[i]} (pid ${pids[i]}) ignored SIGTERM, killing"
		kill -KILL "${pids[i]}" 2>/dev/null
		_e2e_wait_gone "${pids[i]}" "${sts[i]}" 2000 ||
			echo "# ${labels[i]} (pid ${pids[i]}) survived SIGKILL"
	done
	# Reap our own children; others (haproxy workers) are not ours.
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	return 0
}

_e2e_stop_watchdog() {
	local kids
	[ -n "$_E2E_WATCHDOG" ] || return 0
	# Ending its sleep makes the watchdog exit, reaping the sleep itself.
	kids=$(pgrep -P "$_E2E_WATCHDOG" 2>/dev/null)
	# shellcheck disable=SC2086
	kill -TERM ${kids:-$_E2E_WATCHDOG} 2>/dev/null
	wait "$_E2E_WATCHDOG" 2>/dev/null
	_E2E_WATCHDOG=
}

_e2e_dump_logs() {
	local f line
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "# --- last lines of ${f##*/}"
		tail -n 15 "$f" | while IFS= read -r line; do
			echo "#   $line"
		done
	done
}

# A sanitizer or valgrind report in any log or captured stderr fails the
# test, even if the process that wrote it was stopped by the cleanup.
_e2e_check_sanitizers() {
	local f
	for f in "$T"/*.log "$T"/*.err; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|==[0-9]+== (Invalid|Conditional|.*definitely lost)' "$f"; then
			not_ok "sanitizer report in ${f##*/}" \
				"$(grep -m 5 -E 'Sanitizer|runtime error|==[0-9]+==' "$f")"
		fi
	done
}

_e2e_cleanup() {
	[ "$_E2E_CLEANED" = 1 ] && return 0
	_E2E_CLEANED=1
	set +e
	_e2e_stop_watchdog
	_e2e_stop_all
	[ -n "$T" ] || return 0
	_e2e_check_sanitizers
	[ "$_E2E_FAIL" -gt 0 ] && _e2e_dump_logs
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
	return 0
}

_e2e_on_signal() {
	trap - INT TERM HUP
	if [ -n "$T" ] && [ -f "$T/deadline" ]; then
		not_ok "deadline of $(cat "$T/deadline") s exceeded"
	else
		not_ok "interrupted by SIG$1"
	fi
	_E2E_BAILED=1
	exit 1
}

_e2e_on_exit() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ "$_E2E_DONE" = 1 ]; then
		_e2e_cleanup
		exit "$rc"
	fi
	[ "$rc" = 0 ] && rc=1
	[ "$_E2E_BAILED" = 1 ] ||
		not_ok "test ended before e2e_done (exit status $rc)"
	_e2e_cleanup
	echo "1..$_E2E_N"
	echo "$_E2E_NAME: $_E2E_PASS passed, $_E2E_FAIL failed"
	exit "$rc"
}

# ----------------------------------------------------------------------
# Setup and summary

# e2e_init NAME: makes the temp dir $T, installs the cleanup trap and a
# watchdog that ends the test after E2E_DEADLINE seconds (scaled).
e2e_init() {
	local secs tool
	_E2E_NAME=$1
	for tool in socat ss curl pgrep timeout awk; do
		command -v "$tool" >/dev/null 2>&1 || {
			echo "$_E2E_NAME: missing tool '$tool'" >&2
			exit 1
		}
	done
	T=$(mktemp -d "${TMPDIR:-/tmp}/cutover-e2e.XXXXXX") || exit 1
	: >"$T/pids"
	: >"$T/ports"
	# Run locks and journals stay inside the test.
	export CUTOVER_STATE_DIR=$T/state
	trap _e2e_on_exit EXIT
	trap '_e2e_on_signal INT' INT
	trap '_e2e_on_signal TERM' TERM
	trap '_e2e_on_signal HUP' HUP
	echo "# $_E2E_NAME in $T"
	# Unix socket paths are limited to 107 bytes.
	[ ${#T} -le 70 ] || e2e_bail "temp dir path too long for unix sockets: $T"
	[ -x "$HAPROXY" ] || e2e_bail "no haproxy at $HAPROXY"
	[ -x "$TOOLS/backend" ] ||
		e2e_bail "no $TOOLS/backend: run 'make tools' first"

	# The watchdog signals the test, then ends the test's descendants (by
	# PID) so that a hung foreground command cannot delay the trap.
	secs=$(($(_e2e_ms "$E2E_DEADLINE") / 1000))
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$secs" &
		sp=$!
		wait "$sp" || exit 0
		echo "$secs" >"$T/deadline"
		kill -TERM $$
		# shellcheck disable=SC2046
		kill -TERM $(_e2e_descendants $$ "$BASHPID") 2>/dev/null
		exit 0
	) </dev/null >/dev/null 2>&1 &
	_E2E_WATCHDOG=$!
}

# e2e_done: stops everything, prints the plan and the summary line
# "NAME: P passed, F failed", exits 0 if nothing failed, else 1.
e2e_done() {
	_e2e_cleanup
	_E2E_DONE=1
	echo "1..$_E2E_N"
	echo "$_E2E_NAME: $_E2E_PASS passed, $_E2E_FAIL failed"
	[ "$_E2E_FAIL" = 0 ] && exit 0
	exit 1
}

_e2e_check_name() {
	[[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
		e2e_bail "bad name '$1': use letters, digits and _"
}

# free_port: prints a 127.0.0.1 TCP port that no socket uses and that this
# test has not handed out yet, chosen below the kernel's ephemeral range so
# outgoing connections cannot take it meanwhile. Safe inside $(...): the
# handed-out set lives in $T/ports.
free_port() {
	local lo=20000 hi=32000 eph p i
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null ||
		eph=32768
	if [ "$eph" -gt $((lo + 2000)) ]; then
		hi=$((eph - 1))
	else
		lo=61000
		hi=65000
	fi
	for ((i = 0; i < 200; i++)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		grep -qx "$p" "$T/ports" && continue
		[ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] || continue
		echo "$p" >>"$T/ports"
		echo "$p"
		return 0
	done
	echo "free_port: no free port found" >&2
	return 1
}

# ----------------------------------------------------------------------
# Test backends

# start_backend NAME VERSION [ARGS...]: starts $TOOLS/backend (ARGS go to
# it, e.g. --tcp or --fail-file F) on a free port and waits for its
# "listening" line. Sets PORT_<NAME> and BEPID_<NAME>; prints nothing on
# success, bails otherwise. To restart on the same port pass
# --port "$PORT_<NAME>" in ARGS. stdout/stderr: $T/be-NAME.out/.log.
start_backend() {
	local name=$1 version=$2 port='' fixed='' try pid deadline a prev=''
	shift 2
	_e2e_check_name "$name"
	for a in "$@"; do
		[ "$prev" = --port ] && fixed=$a
		prev=$a
	done
	for try in 1 2 3 4 5; do
		if [ -n "$fixed" ]; then
			port=$fixed
		else
			port=$(free_port) || e2e_bail "start_backend $name: no free port"
		fi
		: >"$T/be-$name.out"
		"$TOOLS/backend" --port "$port" --version "$version" \
			--pidfile "$T/be-$name.pid" "$@" \
			<"/dev/null" >"$T/be-$name.out" 2>>"$T/be-$name.log" &
		pid=$!
		e2e_track "$pid" "backend $name"
		deadline=$(($(_e2e_now_ms) + $(_e2e_ms 5)))
		while :; do
			if grep -q '^listening ' "$T/be-$name.out"; then
				printf -v "PORT_$name" '%s' "$port"
				printf -v "BEPID_$name" '%s' "$pid"
				return 0
			fi
			if ! kill -0 "$pid" 2>/dev/null ||
				! _e2e_is_ours "$pid" "$(_e2e_starttime "$pid")"; then
				wait "$pid" 2>/dev/null
				if [ -z "$fixed" ] && grep -q 'address already in use' \
					"$T/be-$name.log"; then
					: >"$T/be-$name.log"
					continue 2	# lost a race for the port
				fi
				e2e_bail "start_backend $name: backend exited" \
					"$(tail -n 5 "$T/be-$name.log")"
			fi
			[ "$(_e2e_now_ms)" -ge "$deadline" ] &&
				e2e_bail "start_backend $name: no 'listening' line" \
					"$(tail -n 5 "$T/be-$name.log")"
			sleep 0.02
		done
	done
	e2e_bail "start_backend $name: could not bind after 5 tries"
}

# stop_backend NAME [SIGNAL] [TIMEOUT_S]: signals the backend (default
# TERM) and waits (default 10 s, scaled) for it to exit; RC = its status.
stop_backend() {
	local name=$1 sig=${2:-TERM} secs=${3:-10} pid st
	local v=BEPID_$name
	pid=${!v:-}
	[ -n "$pid" ] || e2e_bail "stop_backend: no backend '$name'"
	signal_backend "$name" "$sig"
	st=$(awk -v p="$pid" '$1 == p { s = $2 } END { print s }' "$T/pids")
	_e2e_wait_gone "$pid" "$st" "$(_e2e_ms "$secs")" ||
		e2e_bail "stop_backend $name: still running after ${secs}s"
	RC=0
	wait "$pid" 2>/dev/null || RC=$?
}

# wait_backend NAME [TIMEOUT_S]: waits for a backend that was told to stop
# (signal_backend) to exit; RC = its status.
wait_backend() {
	stop_backend "$1" 0 "${2:-10}"
}

# signal_backend NAME SIGNAL: sends SIGNAL without waiting.
signal_backend() {
	local v=BEPID_$1
	[ -n "${!v:-}" ] || e2e_bail "signal_backend: no backend '$1'"
	kill "-$2" "${!v}" 2>/dev/null || true
}

# ----------------------------------------------------------------------
# Background commands (e.g. a client or cutover running while the test
# acts): bg_run NAME CMD... then bg_wait NAME [TIMEOUT_S].

# bg_run NAME CMD...: stdout/stderr to $T/bg-NAME.out/.err; BGPID_<NAME>.
bg_run() {
	local name=$1
	shift
	_e2e_check_name "$name"
	"$@" </dev/null >"$T/bg-$name.out" 2>"$T/bg-$name.err" &
	printf -v "BGPID_$name" '%s' "$!"
	e2e_track "$!" "bg $name"
}

# bg_wait NAME [TIMEOUT_S]: waits (default 30 s, scaled) for the command;
# sets RC, OUT and ERR. Bails if it is still running at the deadline.
bg_wait() {
	local name=$1 secs=${2:-30} v=BGPID_$1 pid st
	pid=${!v:-}
	[ -n "$pid" ] || e2e_bail "bg_wait: nothing started as '$name'"
	st=$(awk -v p="$pid" '$1 == p { s = $2 } END { print s }' "$T/pids")
	if [ -n "$st" ]; then
		_e2e_wait_gone "$pid" "$st" "$(_e2e_ms "$secs")" ||
			e2e_bail "bg_wait $name: still running after ${secs}s"
	fi
	RC=0
	wait "$pid" 2>/dev/null || RC=$?
	OUT=$(cat "$T/bg-$name.out")
	ERR=$(cat "$T/bg-$name.err")
}

# ----------------------------------------------------------------------
# HAProxy

# lb_sock NAME [admin|oper|user|master|tcp]: prints the address of one of
# the LB's CLI sockets (tcp: 127.0.0.1:PORT).
lb_sock() {
	local v
	case ${2:-admin} in
	admin) v=LBSOCK_$1; echo "${!v:-$T/$1.sock}" ;;
	oper) echo "$T/$1-oper.sock" ;;
	user) echo "$T/$1-user.sock" ;;
	master) echo "$T/$1-master.sock" ;;
	tcp) v=LBTCP_$1; echo "127.0.0.1:${!v:-}" ;;
	*) echo "lb_sock: unknown socket '$2'" >&2; return 1 ;;
	esac
}

# lb_cmd_at ADDR "command": sends one runtime-API command to a unix socket
# path or a 127.0.0.1:PORT address and prints the reply.
lb_cmd_at() {
	local addr=$1
	case $addr in
	127.*:*) addr=TCP:$addr ;;
	*) addr=UNIX-CONNECT:$addr ;;
	esac
	printf '%s\n' "$2" | timeout -k 2 10 socat -t 5 - "$addr"
}

# lb_cmd NAME "command": the same through the LB's admin socket.
lb_cmd() {
	lb_cmd_at "$(lb_sock "$1")" "$2"
}

# lb_master_cmd NAME "command": through the master CLI (show proc, reload).
lb_master_cmd() {
	lb_cmd_at "$T/$1-master.sock" "$2"
}

_e2e_lb_answers() {
	local reply
	reply=$(lb_cmd "$1" "show info" 2>/dev/null) || return 1
	[[ $reply == *"Name: HAProxy"* ]]
}

# _e2e_lb_launch NAME CFG: starts haproxy in master-worker mode in the
# background; 0 once the admin socket answers, 1 if haproxy exited.
_e2e_lb_launch() {
	local name=$1 cfg=$2 pid deadline log=$T/lb-$1.log
	if ! "$HAPROXY" -c -q -f "$cfg" >>"$log" 2>&1; then
		e2e_bail "start_lb $name: haproxy rejects $cfg" \
			"$(tail -n 10 "$log")"
	fi
	rm -f "$T/$name.sock" "$T/$name-oper.sock" "$T/$name-user.sock" \
		"$T/$name-master.sock"
	"$HAPROXY" -W -S "$T/$name-master.sock" -db -f "$cfg" \
		-p "$T/$name.pid" <"/dev/null" >>"$log" 2>&1 &
	pid=$!
	e2e_track "$pid" "haproxy $name master"
	deadline=$(($(_e2e_now_ms) + $(_e2e_ms 10)))
	until _e2e_lb_answers "$name"; do
		if ! kill -0 "$pid" 2>/dev/null ||
			! _e2e_is_ours "$pid" "$(_e2e_starttime "$pid")"; then
			wait "$pid" 2>/dev/null
			return 1
		fi
		[ "$(_e2e_now_ms)" -ge "$deadline" ] &&
			e2e_bail "start_lb $name: admin socket not answering" \
				"$(tail -n 10 "$log")"
		sleep 0.05
	done
	printf -v "LBPID_$name" '%s' "$pid"
	lb_workers "$name" >/dev/null
	return 0
}

# lb_workers NAME: prints the LB's current worker PIDs (also tracks them)
# and sets LBWORKERS_<NAME>.
lb_workers() {
	local v=LBPID_$1 w list=
	for w in $(pgrep -P "${!v:-0}" 2>/dev/null); do
		grep -q "^$w " "$T/pids" || e2e_track "$w" "haproxy $1 worker"
		list="$list${list:+ }$w"
	done
	printf -v "LBWORKERS_$1" '%s' "$list"
	echo "$list"
}

# start_lb NAME SRV=PORT...: writes $T/NAME.cfg and starts HAProxy:
#   global: admin/operator/user unix sockets $T/NAME{,-oper,-user}.sock, an
#           admin TCP socket on 127.0.0.1:$LBTCP_<NAME>, master CLI
#           $T/NAME-master.sock, then $LB_GLOBAL_EXTRA
#   defaults: mode http, timeouts, option httpchk GET /health,
#           then $LB_DEFAULTS_EXTRA
#   frontend fe on 127.0.0.1:$FEPORT_<NAME> -> backend app (roundrobin,
#           one "server SRV 127.0.0.1:PORT check inter 200ms rise 2 fall 2
#           $LB_SERVER_OPTS" per argument); backend other holds only the
#           first server, so that name exists in two backends
#   then $LB_CFG_EXTRA verbatim (more sections).
# Waits until the admin socket answers; sets LBPID_<NAME> (the master).
start_lb() {
	local name=$1 try fe tcp spec srv port
	shift
	_e2e_check_name "$name"
	[ $# -ge 1 ] || e2e_bail "start_lb $name: no server given"
	for spec in "$@"; do
		[[ $spec =~ ^[A-Za-z0-9_.-]+=[0-9]+$ ]] ||
			e2e_bail "start_lb $name: bad server spec '$spec' (want srv=port)"
	done
	for try in 1 2 3; do
		if ! fe=$(free_port) || ! tcp=$(free_port); then
			e2e_bail "start_lb $name: no free port"
		fi
		{
			cat <<-EOF
			# generated by tests/e2e/lib.sh for $_E2E_NAME
			global
			    maxconn 500
			    stats socket $T/$name.sock level admin
			    stats socket $T/$name-oper.sock level operator
			    stats socket $T/$name-user.sock level user
			    stats socket ipv4@127.0.0.1:$tcp level admin
			    stats maxconn 50
			    stats timeout 30s
			    ${LB_GLOBAL_EXTRA:-}

			defaults
			    mode http
			    timeout connect 1s
			    timeout client 30s
			    timeout server 30s
			    option httpchk GET /health
			    ${LB_DEFAULTS_EXTRA:-}

			frontend fe
			    bind 127.0.0.1:$fe
			    default_backend app

			backend app
			    balance roundrobin
			EOF
			for spec in "$@"; do
				srv=${spec%%=*}
				port=${spec#*=}
				printf '    server %s 127.0.0.1:%s check inter 200ms rise 2 fall 2 %s\n' \
					"$srv" "$port" "${LB_SERVER_OPTS:-}"
			done
			printf '\nbackend other\n'
			srv=${1%%=*}
			port=${1#*=}
			printf '    server %s 127.0.0.1:%s check inter 200ms rise 2 fall 2 %s\n' \
				"$srv" "$port" "${LB_SERVER_OPTS:-}"
			printf '\n%s\n' "${LB_CFG_EXTRA:-}"
		} >"$T/$name.cfg"
		if _e2e_lb_launch "$name" "$T/$name.cfg"; then
			printf -v "FEPORT_$name" '%s' "$fe"
			printf -v "LBTCP_$name" '%s' "$tcp"
			printf -v "LBSOCK_$name" '%s' "$T/$name.sock"
			return 0
		fi
		grep -qiE 'cannot bind|address already in use' "$T/lb-$name.log" ||
			e2e_bail "start_lb $name: haproxy exited" \
				"$(tail -n 10 "$T/lb-$name.log")"
	done
	e2e_bail "start_lb $name: could not bind after 3 tries" \
		"$(tail -n 10 "$T/lb-$name.log")"
}

# start_lb_tcp NAME SRV=PORT...: HAProxy in TCP mode (long-lived
# sessions) in front of the servers of backend app, with an admin unix
# socket $T/NAME.sock and an admin TCP socket; sets FEPORT_ and LBTCP_.
start_lb_tcp() {
	local name=$1 fe tcp spec
	shift
	fe=$(free_port)
	tcp=$(free_port)
	{
		cat <<-EOF
		global
		    maxconn 4000
		    stats socket $T/$name.sock level admin
		    stats socket ipv4@127.0.0.1:$tcp level admin
		    stats maxconn 20
		defaults
		    mode tcp
		    timeout connect 1s
		    timeout client 5m
		    timeout server 5m
		frontend fe
		    bind 127.0.0.1:$fe
		    default_backend app
		backend app
		    balance roundrobin
		EOF
		for spec in "$@"; do
			printf '    server %s 127.0.0.1:%s check inter 200ms\n' \
				"${spec%%=*}" "${spec#*=}"
		done
	} >"$T/$name.cfg"
	start_lb_cfg "$name" "$T/$name.cfg"
	printf -v "FEPORT_$name" '%s' "$fe"
	printf -v "LBTCP_$name" '%s' "$tcp"
}

# start_lb_cfg NAME CFGFILE [ADMIN_SOCK]: starts HAProxy on a config the
# test wrote itself. It must declare an admin "stats socket" at ADMIN_SOCK
# (default $T/NAME.sock); the master CLI is $T/NAME-master.sock.
start_lb_cfg() {
	local name=$1
	_e2e_check_name "$name"
	printf -v "LBSOCK_$name" '%s' "${3:-$T/$name.sock}"
	_e2e_lb_launch "$name" "$2" ||
		e2e_bail "start_lb_cfg $name: haproxy exited" \
			"$(tail -n 10 "$T/lb-$name.log")"
}

# stop_lb NAME [TIMEOUT_S]: TERM to the master, bounded wait, then KILL.
stop_lb() {
	local name=$1 secs=${2:-10} v=LBPID_$1 pid st
	pid=${!v:-}
	[ -n "$pid" ] || e2e_bail "stop_lb: no LB '$name'"
	lb_workers "$name" >/dev/null
	st=$(awk -v p="$pid" '$1 == p { s = $2 } END { print s }' "$T/pids")
	kill -TERM "$pid" 2>/dev/null
	if ! _e2e_wait_gone "$pid" "$st" "$(_e2e_ms "$secs")"; then
		kill -KILL "$pid" 2>/dev/null
		_e2e_wait_gone "$pid" "$st" 2000
	fi
	wait "$pid" 2>/dev/null || true
}

# Runtime-API readers. BE/SRV names a server in a backend; each prints one
# value, or nothing and status 1 if the server is not found.

# _e2e_state_field NAME BE SRV FIELD: a column of "show servers state BE".
_e2e_state_field() {
	local reply
	reply=$(lb_cmd "$1" "show servers state $2") || return 1
	awk -v srv="$3" -v want="$4" '
		/^# / { for (i = 2; i <= NF; i++) col[$i] = i - 1; next }
		NF > 4 && $4 == srv && (want in col) { v = $col[want]; f = 1 }
		END { if (f) print v; exit !f }' <<<"$reply"
}

# _e2e_stat_field NAME BE SRV FIELD: a column of "show stat BE 4 -1".
_e2e_stat_field() {
	local reply
	reply=$(lb_cmd "$1" "show stat $2 4 -1") || return 1
	awk -F, -v srv="$3" -v want="$4" '
		/^# / { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
		$2 == srv && (want in col) { v = $col[want]; f = 1 }
		END { if (f) print v; exit !f }' <<<"$reply"
}

# srv_admin NAME BE/SRV: ready, drain or maint, from srv_admin_state
# (maint bits 0x01 0x02 0x04 0x20 0x40 win over drain bits 0x08 0x10).
srv_admin() {
	local v
	v=$(_e2e_state_field "$1" "${2%%/*}" "${2#*/}" srv_admin_state) ||
		return 1
	if (((v & 0x67) != 0)); then
		echo maint
	elif (((v & 0x18) != 0)); then
		echo drain
	else
		echo ready
	fi
}

# srv_weight NAME BE/SRV: the user weight (srv_uweight).
srv_weight() {
	_e2e_state_field "$1" "${2%%/*}" "${2#*/}" srv_uweight
}

# srv_scur NAME BE/SRV: current sessions (scur).
srv_scur() {
	_e2e_stat_field "$1" "${2%%/*}" "${2#*/}" scur
}

# srv_status NAME BE/SRV: the CSV status column (UP, DOWN, DRAIN, MAINT,
# "UP 1/2", "no check", ...).
srv_status() {
	_e2e_stat_field "$1" "${2%%/*}" "${2#*/}" status
}

# _e2e_all_up NAME BE: every server of BE is UP with a passed check.
# HAProxy reports a checked server UP before its first check has run, so
# the check_status column (L4OK, L6OK, L7OK) must say OK as well.
_e2e_all_up() {
	local reply
	reply=$(lb_cmd "$1" "show stat $2 4 -1") || return 1
	awk -F, '
		/^# / { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
		NF > 2 {
			n++
			st = $col["status"]; chk = $col["check_status"]
			if (st != "no check" && (st != "UP" || chk !~ /OK$/))
				bad = 1
		}
		END { exit (bad || n == 0) }' <<<"$reply"
}

# wait_lb_up NAME [BE] [TIMEOUT_S]: setup wait until all servers of BE
# (default app) have passed a health check.
wait_lb_up() {
	local be=${2:-app}
	wait_for "$1: all servers of $be UP" "${3:-10}" _e2e_all_up "$1" "$be"
}
