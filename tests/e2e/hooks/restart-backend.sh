#!/usr/bin/env bash
# restart-backend.sh T TOOLS SERVER PORT VERSION [BACKEND ARGS...]
# An upgrade hook for the end-to-end tests: stops the test backend that
# serves SERVER (its pid is in T/be-SERVER.pid) gracefully, waits until it
# is gone, and starts VERSION on the same PORT. The new process is recorded
# in T/pids, so the test's cleanup stops it by PID like everything else.
set -eu
T=$1 TOOLS=$2 SERVER=$3 PORT=$4 VERSION=$5
shift 5
pidfile=$T/be-$SERVER.pid

# alive PID: the process exists and is not a zombie waiting to be reaped
# (the old backend's parent is whatever reaps orphans here, maybe late).
alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

echo "stopping $SERVER (port $PORT)"
if [ -s "$pidfile" ]; then
	old=$(cat "$pidfile")
	kill -TERM "$old" 2>/dev/null || true
	for _ in $(seq 200); do
		alive "$old" || break
		sleep 0.02
	done
	if alive "$old"; then
		echo "old $SERVER did not stop" >&2
		exit 1
	fi
fi
: >"$T/be-$SERVER.out"
"$TOOLS/backend" --port "$PORT" --version "$VERSION" --pidfile "$pidfile" "$@" \
	</dev/null >"$T/be-$SERVER.out" 2>>"$T/be-$SERVER.log" &
new=$!
read -r stat </proc/$new/stat
stat=${stat##*) }
read -r -a f <<<"$stat"
echo "$new ${f[19]} backend $SERVER (hook)" >>"$T/pids"
for _ in $(seq 200); do
	if grep -q '^listening ' "$T/be-$SERVER.out"; then
		echo "started $SERVER $VERSION as pid $new"
		exit 0
	fi
	kill -0 "$new" 2>/dev/null || break
	sleep 0.025
done
echo "new $SERVER did not start" >&2
exit 1
