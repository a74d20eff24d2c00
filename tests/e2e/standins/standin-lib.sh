# standin-lib.sh - shared by the stand-ins of tests/e2e/standins/: the
# commands of software Debian does not ship (mongooseimctl, emqx,
# systemctl for Mastodon's units), which the recipes' hooks call by their
# real names. A stand-in keeps its state in files and, where the real
# software serves clients, runs a real process: the test backend
# ($STANDIN_TOOLS/backend) for a node's listener. Every process started is
# recorded in $STANDIN_PIDS ("PID STARTTIME LABEL" lines, the test's
# T/pids), so that the test stops it by PID.
#
# shellcheck shell=bash

# alive PID: the process exists and is not a zombie.
standin_alive() {
	local st
	[ -n "$1" ] || return 1
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# standin_spawn PIDFILE LABEL CMD...: runs CMD in its own session in the
# background (output appended to PIDFILE.log), records it, writes PIDFILE.
standin_spawn() {
	local pidfile=$1 label=$2 pid stat
	local -a f
	shift 2
	setsid "$@" </dev/null >>"$pidfile.log" 2>&1 &
	pid=$!
	read -r stat <"/proc/$pid/stat"
	stat=${stat##*) }
	read -r -a f <<<"$stat"
	[ -n "${STANDIN_PIDS:-}" ] && echo "$pid ${f[19]} $label" >>"$STANDIN_PIDS"
	echo "$pid" >"$pidfile"
}

# standin_stop PIDFILE: SIGTERM, then waits (10 s) until it is gone.
standin_stop() {
	local pid i
	pid=$(cat "$1" 2>/dev/null) || return 0
	standin_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 400; i++)); do
		standin_alive "$pid" || return 0
		sleep 0.025
	done
	return 1
}

# standin_listen PIDFILE PORT VERSION LABEL [ARGS...]: the test backend
# on PORT as a node's listener; waits for its "listening" line.
standin_listen() {
	local pidfile=$1 port=$2 version=$3 label=$4 i
	shift 4
	: >"$pidfile.log"
	standin_spawn "$pidfile" "$label" "$STANDIN_TOOLS/backend" \
		--port "$port" --version "$version" --quiet "$@"
	for ((i = 0; i < 200; i++)); do
		grep -q '^listening ' "$pidfile.log" 2>/dev/null && return 0
		standin_alive "$(cat "$pidfile")" || return 1
		sleep 0.025
	done
	return 1
}
