#!/usr/bin/env bash
# 59-reload-old-worker: after an HAProxy reload the old worker keeps its
# established sessions, but the stats socket belongs to the new worker,
# which reports 0. One long-lived TCP client holds a session to web1; the
# LB is reloaded (master CLI `reload`), so that session stays on the old
# worker. Given the LB's master CLI (--lb 'unix:ADMIN,master=unix:MASTER'),
# `drain --wait` counts it and waits until the client leaves by itself;
# without it, the wait ends at once (the documented limitation) and a
# reload seen during a wait is warned about. A bad master spec is a usage
# error that changes nothing; an unreachable master makes the wait time
# out naming it, never "drained".
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 59-reload-old-worker

start_backend web1 v1 --tcp
start_lb_tcp lb1 "web1=$PORT_web1"
wait_lb_up lb1
SOCK=$(lb_sock lb1)
MSOCK=$(lb_sock lb1 master)
LB="unix:$SOCK"
LBM="unix:$SOCK,master=unix:$MSOCK"
old_workers() {	# the pids under "# old workers" in show proc
	lb_master_cmd lb1 "show proc" |
		awk '/^# old workers/ { o = 1; next } /^#/ { o = 0 } o && $1 ~ /^[0-9]+$/ { print $1 }'
}

bg_run c1 "$TOOLS/tcpclients" --port "$FEPORT_lb1" --clients 1 \
	--until-file "$T/stop-c1" --report "$T/c1.report"
wait_for "the client holds a session on web1" 10 output_is 1 srv_scur lb1 app/web1

# Without the master: a reload during the wait. cutover notices it, sends
# its drain again, warns that the old worker's sessions are not counted,
# and (the limitation) finds web1 drained on the new worker.
bg_run nomaster "$CUTOVER" --lb "$LB" drain app/web1 --wait --timeout 30s
wait_for "web1 drained before the reload" 10 output_is drain srv_admin lb1 app/web1
lb_master_cmd lb1 reload >/dev/null || true
wait_for "the session's worker is now an old worker" 10 bash -c \
	"[ -n \"\$(printf 'show proc\n' | socat -t 5 - UNIX-CONNECT:$MSOCK | awk '/^# old workers/ { o = 1; next } /^#/ { o = 0 } o && \$1 ~ /^[0-9]+\$/')\" ]"
OLD=$(old_workers | head -n 1)
lb_workers lb1 >/dev/null
bg_wait nomaster 30
assert_eq "without the master, the wait across a reload exits 0" 0 "$RC"
assert_match "and warns that the old worker's sessions are not counted" \
	"sessions still held by its old worker are not counted; give its master socket" "$ERR"
assert_eq "the new worker reports no session on web1" 0 "$(srv_scur lb1 app/web1)"
assert_match "the old worker $OLD still holds it" \
	"app,web1,[0-9]*,[0-9]*,1," "$(lb_master_cmd lb1 "@!$OLD show stat app 4 -1")"

assert_rc "without the master, drain --wait exits 0 (not counted)" 0 \
	"$CUTOVER" --lb "$LB" drain app/web1 --wait --timeout 2s

# With the master: the session on the old worker counts.
assert_rc "with the master, drain --wait times out (exit 4)" 4 \
	"$CUTOVER" --lb "$LBM" drain app/web1 --wait --timeout 2s
assert_match "and says the session is on the old worker" \
	"web1: 1 session on old worker $OLD of unix:$SOCK" "$ERR"
assert_rc "the same through CUTOVER_LB (exit 4)" 4 \
	env CUTOVER_LB="$LBM" "$CUTOVER" drain app/web1 --wait --timeout 1s
assert_match "naming the old worker" "on old worker $OLD" "$ERR"
assert_rc "--json: exit 4 too" 4 \
	"$CUTOVER" --lb "$LBM" --json drain app/web1 --wait --timeout 1s
assert_match "--json counts the old worker's session" \
	'"old_worker_sessions": ?1' "$OUT$ERR"

# Bad specs: usage errors, nothing changed.
assert_rc "a bad master spec: exit 2" 2 \
	"$CUTOVER" --lb "unix:$SOCK,master=nowhere" undrain app/web1
assert_match "naming the spec" "unix:$SOCK,master=nowhere.*bad master address" "$ERR"
assert_rc "an unknown option after the address: exit 2" 2 \
	"$CUTOVER" --lb "unix:$SOCK,primary=unix:$MSOCK" undrain app/web1
assert_rc "a bad master spec in CUTOVER_LB: exit 2" 2 \
	env CUTOVER_LB="$LB,master=tcp:127.0.0.1" "$CUTOVER" undrain app/web1
assert_eq "web1 still drained on the LB" drain "$(srv_admin lb1 app/web1)"

# An unreachable master: unknown, so the wait times out and says why.
assert_rc "an unreachable master: the wait times out (exit 4)" 4 \
	"$CUTOVER" --lb "unix:$SOCK,master=unix:$T/no-master.sock" drain \
	app/web1 --wait --timeout 2s
assert_match "naming the master" "master unix:$T/no-master.sock, 'show proc'" "$ERR"

# With the master, the client leaving by itself ends the wait. The stop
# file only triggers the client; nothing asserts on its timing.
bg_run closer bash -c "sleep 1; touch '$T/stop-c1'"
assert_rc "with the master, drain --wait returns once the client left (exit 0)" 0 \
	"$CUTOVER" --lb "$LBM" drain app/web1 --wait --timeout 30s
bg_wait closer 10
bg_wait c1 30
assert_eq "the client was never cut" 0 "$(sed -n 's/.*disconnects=\([0-9]*\).*/\1/p' "$T/c1.report")"
assert_eq "and not lost" 0 "$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' "$T/c1.report")"
wait_for "the old worker exits once its session is gone" 10 bash -c \
	"! kill -0 $OLD 2>/dev/null"
e2e_done
