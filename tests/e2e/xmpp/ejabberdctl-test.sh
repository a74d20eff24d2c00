#!/usr/bin/env bash
# ejabberdctl-test.sh T NODE ARGS... - Debian's /usr/sbin/ejabberdctl for
# one of a test's own ejabberd nodes (written by ejabberd-lib.sh under
# T/ej/NODE): its own ejabberdctl.cfg (node name, config, spool, logs,
# cookie, loopback-only distribution), the test's private epmd port and
# HOME. The recipe hooks run it as EJABBERDCTL="... ejabberdctl-test.sh T
# %s". After a successful "start" it waits for the node's pid file and
# records the beam process in T/pids, so that the test's cleanup stops it
# by PID like everything else it started.
set -u
T=$1 NODE=$2
shift 2
D=$T/ej/$NODE
[ -f "$D/ejabberdctl.cfg" ] || {
	echo "ejabberdctl-test: no node '$NODE' in $T/ej" >&2
	exit 2
}
export HOME=$T/ej/home
ERL_EPMD_PORT=$(cat "$T/ej/epmd.port")
export ERL_EPMD_PORT
EJABBERDCTL_BIN=${EJABBERDCTL_BIN:-/usr/sbin/ejabberdctl}

[ "${1:-}" = start ] && rm -f "$D/ejabberd.pid"
rc=0
"$EJABBERDCTL_BIN" --ctl-config "$D/ejabberdctl.cfg" "$@" || rc=$?
[ "${1:-}" = start ] && [ "$rc" = 0 ] || exit "$rc"

# The detached beam writes its pid file once ejabberd's application runs.
for _ in $(seq 300); do
	pid=$(cat "$D/ejabberd.pid" 2>/dev/null) || pid=
	if [ -n "$pid" ] && read -r stat 2>/dev/null <"/proc/$pid/stat"; then
		stat=${stat##*) }
		read -r -a f <<<"$stat"
		echo "$pid ${f[19]} ejabberd $NODE (beam)" >>"$T/pids"
		exit 0
	fi
	sleep 0.05
done
echo "ejabberdctl-test: $NODE started but wrote no pid file" >&2
exit 1
