#!/usr/bin/env bash
# 20-refusals: every bad request is refused with its exit code and a
# message naming the LB and the name, and NOTHING changes on ANY LB:
# unknown server, unknown backend, a server missing on one LB, one LB
# down, sockets at operator and user level, and a change that one LB
# refuses half-way (weight 50% on a static-rr backend), which is undone
# on the LB that had accepted it.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 20-refusals

start_backend b1 v1
start_backend b2 v2
start_lb lb1 "s1=$PORT_b1" "s2=$PORT_b2"
start_lb lb2 "s1=$PORT_b1" "s2=$PORT_b2"
start_lb lb3 "s1=$PORT_b1"			# has no s2
L1="unix:$(lb_sock lb1)"
L2="tcp:$(lb_sock lb2 tcp)"

# Admin state and user weight of every server, to compare before/after.
states() {
	local lb
	for lb in "$@"; do
		lb_cmd "$lb" "show servers state" |
			awk -v lb="$lb" 'NF > 8 && $1 !~ /^#/ { print lb, $2 "/" $4, $7, $8 }'
	done
}
# A little prior state, so "unchanged" is not just "all default".
lb_cmd lb1 "set server app/s2 state drain" >/dev/null
lb_cmd lb2 "set weight app/s1 7" >/dev/null
before=$(states lb1 lb2 lb3)
unchanged() {
	assert_eq "$1: states unchanged on every LB" "$before" "$(states lb1 lb2 lb3)"
}

assert_rc "unknown server: exit 2" 2 "$CUTOVER" --lb "$L1" --lb "$L2" drain app/nope
assert_match "unknown server: message" "no server 'nope' in backend 'app' on unix:" "$ERR"
unchanged "unknown server"

assert_rc "unknown backend: exit 2" 2 "$CUTOVER" --lb "$L1" --lb "$L2" maint nope/s1
assert_match "unknown backend: message" "no backend 'nope'" "$ERR"
unchanged "unknown backend"

assert_rc "one bad name among good ones: exit 2" 2 \
	"$CUTOVER" --lb "$L1" --lb "$L2" drain app/s1 app/nope
unchanged "one bad name among good ones"

assert_rc "bare name unknown: exit 2" 2 "$CUTOVER" --lb "$L1" drain nosuch
assert_match "bare name unknown: message" "no backend has a server named 'nosuch'" "$ERR"

assert_rc "server missing on one LB: exit 2" 2 \
	"$CUTOVER" --lb "$L1" --lb "unix:$(lb_sock lb3)" drain app/s2
assert_match "server missing: names the LB" "no server 's2' in backend 'app' on unix:.*lb3\\.sock" "$ERR"
unchanged "server missing on one LB"

assert_rc "LB socket absent: exit 3" 3 \
	"$CUTOVER" --lb "$L1" --lb "unix:$T/absent.sock" drain app/s1
assert_match "LB absent: names it" "unix:$T/absent.sock did not answer: cannot connect" "$ERR"
unchanged "LB socket absent"

assert_rc "operator socket: exit 3" 3 \
	"$CUTOVER" --lb "$L1" --lb "unix:$(lb_sock lb2 oper)" drain app/s1
assert_match "operator socket: says so" "lb2-oper\\.sock is at 'operator' level; 'admin' is needed" "$ERR"
unchanged "operator socket"

assert_rc "user socket: exit 3" 3 \
	"$CUTOVER" --lb "unix:$(lb_sock lb1 user)" --lb "$L2" weight app/s1 50%
assert_match "user socket: says so" "'user' level" "$ERR"
unchanged "user socket"

assert_rc "user socket is fine for status" 0 "$CUTOVER" --lb "unix:$(lb_sock lb1 user)" status app
assert_rc "user socket is fine for wait" 0 \
	"$CUTOVER" --lb "unix:$(lb_sock lb1 user)" wait app/s2 --until drained --timeout 5s

# An LB that is stopped (was there, now gone).
start_lb lbx "s1=$PORT_b1" "s2=$PORT_b2"
LX="unix:$(lb_sock lbx)"
stop_lb lbx
assert_rc "stopped LB: exit 3" 3 "$CUTOVER" --lb "$L1" --lb "$LX" undrain app/s2
unchanged "stopped LB"
assert_rc "status with a stopped LB: exit 3" 3 "$CUTOVER" --lb "$L1" --lb "$LX" status
assert_match "status shows it unknown" "lb2 .*UNKNOWN" "$OUT"
assert_match "status still shows what it knows" "app/s1 " "$OUT"

# Half-way failure: lb4 uses static-rr, which refuses any weight but 0
# and 100%; lb1 accepts it first, so it must be put back there.
cat >"$T/lb4.cfg" <<CFG
global
    stats socket $T/lb4.sock level admin
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$(free_port)
    default_backend app
backend app
    balance static-rr
    server s1 127.0.0.1:$PORT_b1
    server s2 127.0.0.1:$PORT_b2
CFG
start_lb_cfg lb4 "$T/lb4.cfg"
before4=$(states lb1 lb4)
assert_rc "refused on one LB after validation: exit 3" 3 \
	"$CUTOVER" --lb "$L1" --lb "unix:$T/lb4.sock" weight app/s1 app/s2 5
assert_match "the refusal is quoted" "static LB algorithm" "$ERR"
assert_match "and says what was put back" "put back what was already changed \\(2 changes undone\\)" "$ERR"
assert_eq "weights back as they were on both LBs" "$before4" "$(states lb1 lb4)"

assert_rc "usage: no LB" 2 env -u CUTOVER_LB "$CUTOVER" status
assert_match "usage: no LB says how" "no load balancer given" "$ERR"
assert_rc "usage: bad LB address" 2 "$CUTOVER" --lb "http://x" status
assert_rc "usage: bad weight" 2 "$CUTOVER" --lb "$L1" weight app/s1 300
assert_rc "usage: option of another command" 2 "$CUTOVER" --lb "$L1" maint app/s1 --wait
assert_rc "usage: unknown command" 2 "$CUTOVER" --lb "$L1" frobnicate
assert_rc "usage: bad duration" 2 "$CUTOVER" --lb "$L1" drain app/s1 --wait --timeout 5y
unchanged "usage errors"

e2e_done
