#!/usr/bin/env bash
# restart-mosquitto.sh T NAME - what "systemctl restart mosquitto" is in
# the mosquitto recipe test (MOSQUITTO_RESTART): stops the test's broker
# NAME (its pid is in T/mq/NAME.pid) with SIGTERM, waits until it is gone,
# and starts Debian's mosquitto again on T/mq/NAME.conf, in its own
# session. The new process is recorded in T/pids, so that the test's
# cleanup stops it by PID like everything else.
set -eu
T=$1 NAME=$2
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
pidfile=$T/mq/$NAME.pid

alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

if [ -s "$pidfile" ]; then
	old=$(cat "$pidfile")
	if alive "$old"; then
		echo "stopping broker $NAME (pid $old)"
		kill -TERM "$old" 2>/dev/null || true
		for _ in $(seq 200); do
			alive "$old" || break
			sleep 0.025
		done
		alive "$old" && { echo "broker $NAME did not stop" >&2; exit 1; }
	fi
fi
setsid "$MOSQUITTO" -c "$T/mq/$NAME.conf" </dev/null >>"$T/mq-$NAME.log" 2>&1 &
new=$!
read -r stat <"/proc/$new/stat"
stat=${stat##*) }
read -r -a f <<<"$stat"
echo "$new ${f[19]} mosquitto $NAME" >>"$T/pids"
echo "$new" >"$pidfile"
sleep 0.1
alive "$new" || { echo "broker $NAME exited at once" >&2; exit 1; }
echo "started broker $NAME (pid $new)"
