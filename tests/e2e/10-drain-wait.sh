#!/usr/bin/env bash
# 10-drain-wait: two HAProxy instances in front of the same two backends.
# A request held by a backend for 1 s must complete with 200 before
# `drain --wait` returns; the server ends drained on both LBs; a deadline
# reports what remains where and leaves the server drained (exit 4);
# --then maint lands in maintenance once drained.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 10-drain-wait

start_backend b1 v1
start_backend b2 v2
start_lb lb1 "s1=$PORT_b1" "s2=$PORT_b2"
start_lb lb2 "s1=$PORT_b1" "s2=$PORT_b2"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")

# The server that holds the request: whichever lb1 sent it to.
held_server() {
	local s
	for s in s1 s2; do
		[ "$(srv_scur lb1 "app/$s")" = 1 ] && { echo "$s"; return 0; }
	done
	return 1
}

# Request times scale with E2E_TIME_MULT: a slow (valgrind) cutover must
# still find them in flight.
HELD_MS=$(_e2e_ms 1)
bg_run slow bash -c "curl -s -o '$T/slow.body' -w '%{http_code}' \
	'http://127.0.0.1:$FEPORT_lb1/slow?ms=$HELD_MS'; echo \" \$(date +%s%N)\""
wait_for "slow request reaches a server" 5 held_server
SRV=$(held_server)

assert_rc "drain --wait returns 0" 0 "$CUTOVER" "${LBS[@]}" drain "app/$SRV" --wait --timeout 20s
drain_end=$(date +%s%N)
drain_out=$OUT
bg_wait slow 10
code=${OUT%% *}
curl_end=${OUT##* }
assert_eq "held request answered 200" 200 "$code"
assert_match "held request came from the drained server" "slow=$HELD_MS" "$(cat "$T/slow.body")"
if [ "$curl_end" -le "$drain_end" ]; then
	ok "drain --wait did not return before the request completed"
else
	not_ok "drain --wait returned before the request completed" \
		"curl ended at $curl_end, cutover at $drain_end"
fi
# Not a benchmark (make bench measures the reaction); a bound ten times
# the target, to tell "reacts to the sessions" from "sleeps on a timer".
lag_ms=$(((drain_end - curl_end) / 1000000))
if [ "$lag_ms" -lt "$(_e2e_ms 1)" ]; then
	ok "drain --wait returned soon after the last session ($lag_ms ms)"
else
	not_ok "drain --wait returned $lag_ms ms after the last session"
fi
assert_match "result names both LBs" "drained after .*lb1\\.sock: 0 sessions.*127\\.0\\.0\\.1:[0-9]+: 0 sessions" "$drain_out"
assert_eq "drained on lb1" drain "$(srv_admin lb1 "app/$SRV")"
assert_eq "drained on lb2" drain "$(srv_admin lb2 "app/$SRV")"
OTHER=$([ "$SRV" = s1 ] && echo s2 || echo s1)
assert_eq "other server untouched on lb1" ready "$(srv_admin lb1 "app/$OTHER")"

# Deadline: a request held 3 s on the other server, drain with 300 ms.
bg_run slow2 curl -s -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$FEPORT_lb2/slow?ms=$(_e2e_ms 3)"
wait_for "second slow request on $OTHER" 5 \
	output_is 1 srv_scur lb2 "app/$OTHER"
assert_rc "drain --wait past its deadline exits 4" 4 \
	"$CUTOVER" "${LBS[@]}" drain "app/$OTHER" --wait --timeout 300ms
assert_match "timeout names the sessions left and where" \
	"app/$OTHER: NOT drained after .*127\\.0\\.0\\.1:[0-9]+: 1 session" "$OUT"
assert_match "timeout says the server is left as it is" "left as they are" "$ERR"
assert_eq "left drained on lb1 after timeout" drain "$(srv_admin lb1 "app/$OTHER")"
assert_eq "left drained on lb2 after timeout" drain "$(srv_admin lb2 "app/$OTHER")"
bg_wait slow2 10
assert_eq "request during the timed-out drain still answered" 200 "$OUT"

# wait --until drained on a server whose sessions are gone now.
assert_rc "wait --until drained" 0 "$CUTOVER" "${LBS[@]}" wait "app/$OTHER" --until drained --timeout 10s

# --then maint: drained first, then maintenance on both LBs.
assert_rc "undrain both" 0 "$CUTOVER" "${LBS[@]}" undrain "app/$SRV" "app/$OTHER"
assert_rc "drain --then maint" 0 "$CUTOVER" "${LBS[@]}" drain "app/$SRV" --then maint --timeout 10s
assert_eq "maint on lb1" maint "$(srv_admin lb1 "app/$SRV")"
assert_eq "maint on lb2" maint "$(srv_admin lb2 "app/$SRV")"

# A server that someone puts back while we wait: exit 1, named.
assert_rc "undrain" 0 "$CUTOVER" "${LBS[@]}" undrain "app/$SRV"
bg_run slow3 curl -s -o /dev/null "http://127.0.0.1:$FEPORT_lb1/slow?ms=$(_e2e_ms 2)"
bg_run slow4 curl -s -o /dev/null "http://127.0.0.1:$FEPORT_lb1/slow?ms=$(_e2e_ms 2)"
wait_for "both servers busy" 5 output_is 1 srv_scur lb1 "app/$SRV"
bg_run drainer "$CUTOVER" "${LBS[@]}" drain "app/$SRV" --wait --timeout 20s
wait_for "drain applied" 5 output_is drain srv_admin lb2 "app/$SRV"
lb_cmd lb2 "set server app/$SRV state ready" >/dev/null
bg_wait drainer 10
assert_eq "wait ends with exit 1 when put back by someone else" 1 "$RC"
assert_match "and says where" "no longer drained on tcp:127" "$ERR"
bg_wait slow3 10
bg_wait slow4 10

e2e_done
