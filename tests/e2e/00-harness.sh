#!/usr/bin/env bash
# 00-harness.sh - tests the end-to-end harness itself, without cutover:
# two test backends (v1, v2) behind two real HAProxy instances; checks the
# backend tool (endpoints, pipelining, --tcp, --fail-file, graceful SIGTERM)
# and lib.sh's runtime-API readers against changes made with lb_cmd.
# shellcheck disable=SC2154,SC2016,SC2317  # PORT_* set by lib.sh; helpers run via wait_for
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init 00-harness

# http_get URL: prints "CODE BODY" (body without its final newline).
http_get() {
	local r code
	r=$(curl -s --max-time 5 -w '\n%{http_code}' "$1") || true
	code=${r##*$'\n'}
	r=${r%$'\n'*}
	echo "$code ${r%$'\n'}"
}

# refused PORT: nothing accepts connections on 127.0.0.1:PORT.
refused() {
	local rc=0
	curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$1/" || rc=$?
	[ "$rc" = 7 ]
}

# sessions_total LB: scur of app/s1 + app/s2.
sessions_total() {
	echo $(($(srv_scur "$1" app/s1) + $(srv_scur "$1" app/s2)))
}

start_backend b1 v1
start_backend b2 v2
start_lb lb1 "s1=$PORT_b1" "s2=$PORT_b2"
start_lb lb2 "s1=$PORT_b1" "s2=$PORT_b2"
wait_lb_up lb1
wait_lb_up lb2
wait_lb_up lb1 other

# --- the backend tool, directly
assert_eq "b1 / answers its version" "200 version=v1" \
	"$(http_get "http://127.0.0.1:$PORT_b1/")"
assert_eq "b2 /version" "200 v2" "$(http_get "http://127.0.0.1:$PORT_b2/version")"
assert_eq "b1 /health" "200 ok" "$(http_get "http://127.0.0.1:$PORT_b1/health")"
assert_eq "unknown path is 404" "404 not found" \
	"$(http_get "http://127.0.0.1:$PORT_b1/nope")"
assert_match "X-Backend-Version header" $'X-Backend-Version: v2\r' \
	"$(curl -s --max-time 5 -D - -o /dev/null "http://127.0.0.1:$PORT_b2/")"

pipelined=$(timeout 5 bash -c '
	exec 3<>"/dev/tcp/127.0.0.1/$1"
	printf "GET /slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3
	cat <&3' _ "$PORT_b1" | tr -d '\r' | grep -E '^(HTTP/|version=|v1$)' || true)
assert_eq "pipelined requests are answered in order" \
	$'HTTP/1.1 200 OK\nversion=v1 slow=100\nHTTP/1.1 200 OK\nv1' "$pipelined"

start_backend t1 tv1 --tcp
assert_eq "--tcp echoes lines with the version" $'tv1 hello\ntv1 world' \
	"$(printf 'hello\nworld\n' | timeout 5 socat -t 2 - "TCP:127.0.0.1:$PORT_t1")"

start_backend f1 vf --fail-file "$T/f1.fail"
assert_eq "--fail-file absent: health 200" "200 ok" \
	"$(http_get "http://127.0.0.1:$PORT_f1/health")"
: >"$T/f1.fail"
assert_eq "--fail-file present: health 503" "503 fail" \
	"$(http_get "http://127.0.0.1:$PORT_f1/health")"

# --- both versions answer through each LB (roundrobin over s1, s2)
for lb in lb1 lb2; do
	fe=FEPORT_$lb
	seen=
	for _ in 1 2 3 4; do
		seen="$seen$(http_get "http://127.0.0.1:${!fe}/");"
	done
	assert_match "$lb: v1 answers through the frontend" \
		"200 version=v1;" "$seen"
	assert_match "$lb: v2 answers through the frontend" \
		"200 version=v2;" "$seen"
done

t0=$(now_ms)
slow=$(http_get "http://127.0.0.1:$FEPORT_lb1/slow?ms=300")
elapsed=$(($(now_ms) - t0))
assert_match "/slow?ms=300 through lb1 is 200" '^200 version=v[12] slow=300$' \
	"$slow"
if [ "$elapsed" -ge 300 ]; then
	ok "/slow?ms=300 takes at least 0.3 s (${elapsed} ms)"
else
	not_ok "/slow?ms=300 takes at least 0.3 s" "took ${elapsed} ms"
fi

# --- runtime-API readers
for lb in lb1 lb2; do
	for s in s1 s2; do
		assert_eq "$lb app/$s admin state is ready" ready \
			"$(srv_admin "$lb" "app/$s")"
		assert_eq "$lb app/$s status is UP" UP "$(srv_status "$lb" "app/$s")"
	done
done
assert_eq "srv_weight reads the user weight" 1 "$(srv_weight lb1 app/s1)"
assert_eq "srv_scur is 0 when idle" 0 "$(srv_scur lb1 app/s2)"
assert_rc "srv_admin fails for an unknown server" 1 srv_admin lb1 app/nope
assert_match "admin TCP socket answers" 'Name: HAProxy' \
	"$(lb_cmd_at "$(lb_sock lb1 tcp)" "show info")"
assert_match "user-level socket refuses set server" 'Permission denied' \
	"$(lb_cmd_at "$(lb_sock lb1 user)" "set server app/s1 state drain")"
assert_match "master CLI lists the worker" \
	"$(lb_workers lb1) +worker" "$(lb_master_cmd lb1 "show proc")"

lb_cmd lb1 "set server app/s1 state drain" >/dev/null
assert_eq "after drain: lb1 app/s1 is drain" drain "$(srv_admin lb1 app/s1)"
assert_eq "after drain: lb1 app/s1 status DRAIN" DRAIN \
	"$(srv_status lb1 app/s1)"
assert_eq "after drain: lb2 app/s1 is still ready" ready \
	"$(srv_admin lb2 app/s1)"
assert_eq "after drain: lb1 other/s1 is still ready" ready \
	"$(srv_admin lb1 other/s1)"
lb_cmd lb1 "set server app/s1 state maint" >/dev/null
assert_eq "after maint: lb1 app/s1 is maint" maint "$(srv_admin lb1 app/s1)"
lb_cmd lb1 "set server app/s1 state ready" >/dev/null
assert_eq "after ready: lb1 app/s1 is ready" ready "$(srv_admin lb1 app/s1)"
lb_cmd lb1 "set server app/s1 weight 7" >/dev/null
assert_eq "srv_weight follows set weight" 7 "$(srv_weight lb1 app/s1)"

# A request in flight is counted in scur.
bg_run held curl -s --max-time 10 "http://127.0.0.1:$FEPORT_lb2/slow?ms=1000"
wait_for "one session on lb2" 5 output_is 1 sessions_total lb2
ok "srv_scur sees the request in flight"
bg_wait held 10
assert_match "held request completed" 'slow=1000$' "$OUT"

# --- graceful SIGTERM: a /slow request in flight still gets its answer.
bg_run slowreq curl -s --max-time 10 -w ' %{http_code}' \
	"http://127.0.0.1:$PORT_b2/slow?ms=1500"
wait_for "b2 holding the /slow request" 5 \
	grep -q 'GET /slow?ms=1500 holding' "$T/be-b2.log"
signal_backend b2 TERM
wait_for "b2 closed its listener" 5 refused "$PORT_b2"
ok "b2 stops accepting after SIGTERM"
bg_wait slowreq 10
assert_eq "request in flight at SIGTERM completes with 200" \
	"version=v2 slow=1500
 200" "$OUT"
wait_backend b2 10
assert_eq "b2 exits 0 after a graceful stop" 0 "$RC"
wait_for "lb1 sees b2 down" 5 output_is DOWN srv_status lb1 app/s2
ok "lb1 marks app/s2 DOWN once b2 is gone"

stop_lb lb2
assert_rc "stopped LB no longer answers" 1 lb_cmd lb2 "show info"

e2e_done
