#!/usr/bin/env bash
# 25-fault-injection: cutover against a runtime API that misbehaves
# (tests/tools/fakelb: garbled, truncated, slow, oversized, disconnect,
# noprompt, error, nul, wrong-pid), alone and next to a real HAProxy that
# holds the same backend and servers. For every fault and every command
# (status, drain, undrain, weight, wait --until drained, rollout --dry-run):
#   - cutover ends within the command timeout (no hang) with its documented
#     exit code: 3 when an LB fails before anything changed, 7 when an LB
#     failed a change and its undo as well (its state is unknown), 4 when a
#     wait reached its --timeout;
#   - stderr names the faulty LB and the problem, with no control bytes
#     from the fake's garbage;
#   - the real HAProxy's admin state and weight of every server are exactly
#     as before: a fault while reading stops cutover before any change, a
#     fault while changing gets what landed on the real LB undone.
# Three places for the fault: every command (the handshake fails; and once
# with the handshake through and the reads garbled), the change itself
# (set server / set weight), and the polls of a wait (show stat).
set -eu
. "$(dirname "$0")/lib.sh"
E2E_CMD_TIMEOUT=30	# seconds (scaled): the bound on every cutover run
e2e_init 25-fault-injection

[ -x "$TOOLS/fakelb" ] || e2e_bail "no $TOOLS/fakelb: run 'make tools' first"
start_backend b1 v1
start_backend b2 v2
start_backend b3 v3
start_lb lb1 "s1=$PORT_b1" "s2=$PORT_b2" "s3=$PORT_b3"
wait_lb_up lb1
REAL=unix:$(lb_sock lb1)
FAKE=unix:$T/fake.sock
# The same picture on both: s1 at weight 7, s2 drained, s3 ready.
FAKE_MODEL=(--server s1::7 --server s2:drain --server s3)
set_real() {
	lb_cmd lb1 "set server app/s1 state ready" >/dev/null
	lb_cmd lb1 "set weight app/s1 7" >/dev/null
	lb_cmd lb1 "set server app/s2 state drain" >/dev/null
	lb_cmd lb1 "set weight app/s2 1" >/dev/null
	lb_cmd lb1 "set server app/s3 state ready" >/dev/null
	lb_cmd lb1 "set weight app/s3 1" >/dev/null
}
# "backend/server admin_bits uweight" of every server of the real LB.
states() {
	lb_cmd lb1 "show servers state" |
		awk 'NF > 8 && $1 !~ /^#/ { print $2 "/" $4, $7, $8 }'
}
set_real
BEFORE=$(states)

# A short per-request deadline keeps the timeouts quick; scaled like every
# other wait, so a slow (e.g. valgrind) run does not time out on the real LB.
LBT_MS=$(_e2e_ms 0.5)
LBT=${LBT_MS}ms
# `slow` sends a byte every 2/5 of that: even a 3-byte silent success
# ("\n> ") misses the deadline, in the middle of the reply.
SLOW_DELAY=$((LBT_MS * 2 / 5))
WAIT_T=$(_e2e_ms 1.5)ms
# `oversized` sends 64 MB (cutover's reply cap) as fast as it can: give it
# deadlines that cannot win that race, so the message is always the cap.
LBT_BIG=$(_e2e_ms 20)ms
WAIT_T_BIG=$(_e2e_ms 8)ms

cat >"$T/plan.yaml" <<PLAN
backend: app
servers: [s1]
hooks:
  upgrade: [true]
PLAN

# start_fake ARGS...: (re)start the fake LB on $T/fake.sock; its stderr
# (one line per command received) goes to $T/fake.log.
FAKEPID=
start_fake() {
	if [ -n "$FAKEPID" ]; then
		kill -TERM "$FAKEPID" 2>/dev/null || true
		wait "$FAKEPID" 2>/dev/null || true
	fi
	: >"$T/fake.out"
	"$TOOLS/fakelb" --unix "$T/fake.sock" --pidfile "$T/fake.pid" \
		--delay "$SLOW_DELAY" "${FAKE_MODEL[@]}" "$@" \
		</dev/null >"$T/fake.out" 2>>"$T/fake.log" &
	FAKEPID=$!
	e2e_track "$FAKEPID" "fakelb $*"
	wait_for "fakelb listening" 5 grep -q '^listening' "$T/fake.out"
}

# The commands, by name, with their arguments.
declare -A CMD=(
	[status]="status app"
	[drain]="drain app/s1"
	[undrain]="undrain app/s2"
	[weight]="weight app/s1 3"
	[wait]="wait app/s2 --until drained --timeout $WAIT_T"
	[wait_big]="wait app/s2 --until drained --timeout $WAIT_T_BIG"
	[rollout]="rollout --dry-run $T/plan.yaml"
)
ALL_CMDS="status drain undrain weight wait rollout"

# run DESC WANT_RC LBT LBS -- CMD...: runs cutover, checks the exit status
# and that stderr holds no control bytes. The fake's log starts empty.
run() {
	local desc=$1 want=$2 lbt=$3 lbs=$4 junk
	shift 5
	: >"$T/fake.log"
	# shellcheck disable=SC2086
	assert_rc "$desc: exit $want" "$want" "$CUTOVER" --lb-timeout "$lbt" \
		$lbs "$@"
	junk=$(LC_ALL=C tr -d '\n\t -~' <"$ERR_FILE" | wc -c)
	assert_eq "$desc: no control bytes on stderr" 0 "$junk"
	echo "#   stderr: $(grep -v ' cutover warn: ' "$ERR_FILE" |
		LC_ALL=C tr -c '\n -~' '?' | head -c 400)"
}

real_unchanged() {
	assert_eq "$1: real LB unchanged" "$BEFORE" "$(states)"
}

fake_got_no_change() {
	if grep -qE "cmd '(set server|set weight|shutdown)" "$T/fake.log"; then
		not_ok "$1: no change was sent" "$(grep -E "cmd '(set|shutdown)" "$T/fake.log")"
	else
		ok "$1: no change was sent"
	fi
}

# What each fault does to the reply awaited for CMDTEXT, as stderr says it.
problem() {
	local mode=$1 cmd=$2
	cmd=${cmd//./\\.}
	case $mode in
	garbled) echo "unexpected reply to '$cmd'|garbled reply: \"|$cmd line [0-9]+" ;;
	truncated) echo "connection closed by HAProxy in the middle of the reply to '$cmd'" ;;
	slow) echo "timed out after [0-9]+ ms (waiting for|in the middle of) the reply to '$cmd'" ;;
	oversized) echo "reply to '$cmd' too large \\(over [0-9]+ bytes\\)" ;;
	disconnect) echo "connection closed by HAProxy before it answered '$cmd'" ;;
	noprompt) echo "timed out after [0-9]+ ms in the middle of the reply to '$cmd' \\([0-9]+ bytes?, no prompt\\)" ;;
	nul) echo "garbled reply to '$cmd': NUL byte" ;;
	error) echo "'$cmd' refused: (Can't find backend|No such proxy)\\.|No such server\\." ;;
	esac
}

lbt_for() {
	if [ "$1" = oversized ]; then echo "$LBT_BIG"; else echo "$LBT"; fi
}

FAULTS="garbled truncated slow oversized disconnect noprompt error nul"

# ---- the fault on every command: nothing gets past the handshake -----------
# (error has no handshake fault: it answers the reads with HAProxy's error
# for a backend that is not there.)
for mode in $FAULTS garbled-csv; do
	case $mode in
	error) start_fake --fault error --on "show servers state"
		what="show servers state" ;;
	garbled-csv) start_fake --fault garbled --after 4	# the reads
		what="show servers state" ;;
	*) start_fake --fault "$mode"
		what=prompt ;;
	esac
	m=${mode%-csv}
	want=$(problem "$m" "$what")
	for lbs in "--lb $FAKE" "--lb $REAL --lb $FAKE"; do
		label="$mode ${lbs//--lb /}"
		label=${label//$T\//}
		for c in $ALL_CMDS; do
			# shellcheck disable=SC2086
			run "$label: $c" 3 "$(lbt_for "$m")" "$lbs" -- ${CMD[$c]}
			assert_match "$label: $c: names the LB and the problem" \
				"fake\\.sock[^;]*($want)" "$ERR"
			fake_got_no_change "$label: $c"
			real_unchanged "$label: $c"
		done
	done
done

# ---- the fault on the change: validated everywhere, fails on the fake -------
# The real LB took the change first and gets it back. The fake fails the
# undo the same way, so its state is unknown: exit 7 and "check by hand".
# `error` refuses the change cleanly (known unchanged there): exit 3.
for mode in $FAULTS; do
	for c in drain undrain weight; do
		case $c in
		weight) on="set weight"; sent="set weight app/s1 3" ;;
		drain) on="set server"; sent="set server app/s1 state drain" ;;
		undrain) on="set server"; sent="set server app/s2 state ready" ;;
		esac
		start_fake --fault "$mode" --on "$on"
		label="$mode on '$on': $c"
		if [ "$mode" = error ]; then
			# shellcheck disable=SC2086
			run "$label" 3 "$(lbt_for "$mode")" "--lb $REAL --lb $FAKE" -- ${CMD[$c]}
			assert_match "$label: quotes the refusal, says it was put back" \
				"fake\\.sock: No such server\\.; put back what was already changed \\(1 change undone\\)" "$ERR"
		else
			# shellcheck disable=SC2086
			run "$label" 7 "$(lbt_for "$mode")" "--lb $REAL --lb $FAKE" -- ${CMD[$c]}
			assert_match "$label: names the LB and the problem" \
				"on [^ ]*fake\\.sock: ($(problem "$mode" "$sent"))" "$ERR"
			assert_match "$label: says the undo failed there only" \
				"UNDO FAILED: app/s[12] on [^ ]*fake\\.sock \\(undo: .*\\) - check these by hand$" "$ERR"
			if [[ $ERR == *"UNDO FAILED"*lb1.sock* ]]; then
				not_ok "$label: the real LB was undone" "$ERR"
			else
				ok "$label: the real LB was undone"
			fi
		fi
		real_unchanged "$label"
	done
done

# A dry run sends no change at all, so a fault on changes does not touch it.
start_fake --fault disconnect --on "set server"
# shellcheck disable=SC2086
run "disconnect on 'set server': rollout --dry-run" 0 "$LBT" "--lb $REAL --lb $FAKE" -- ${CMD[rollout]}
fake_got_no_change "disconnect on 'set server': rollout --dry-run"
real_unchanged "disconnect on 'set server': rollout --dry-run"

# ---- the fault on the polls of a wait ----------------------------------------
# An LB that fails a poll is unknown for that round, never drained: the
# wait reaches its timeout (exit 4) and says which LB failed and how.
for mode in $FAULTS; do
	start_fake --fault "$mode" --on "show stat app"
	label="$mode on 'show stat': wait"
	c="wait"
	if [ "$mode" = oversized ]; then c="wait_big"; fi
	# shellcheck disable=SC2086
	run "$label" 4 "$(lbt_for "$mode")" "--lb $REAL --lb $FAKE" -- ${CMD[$c]}
	assert_match "$label: names the LB and the problem" \
		"not drained after [^;]*; [^ ]*fake\\.sock [a-z ]+: ($(problem "$mode" "show stat app 4 2")|show stat line [0-9]+|'show stat' refused)" "$ERR"
	fake_got_no_change "$label"
	real_unchanged "$label"
done

# ---- faults that are not: a new pid on every `show info` --------------------
# Each cutover run is a new connection, and a new HAProxy process behind
# it is normal; only the state it reports matters. Everything works, on
# both LBs. (And with no fault at all, the same: the setup is right.)
for mode in none wrong-pid; do
	for c in $ALL_CMDS; do
		start_fake --fault "$mode"
		# shellcheck disable=SC2086
		run "$mode: $c" 0 "$LBT" "--lb $REAL --lb $FAKE" -- ${CMD[$c]}
		case $c in
		drain) assert_eq "$mode: drain landed" drain "$(srv_admin lb1 app/s1)" ;;
		undrain) assert_eq "$mode: undrain landed" ready "$(srv_admin lb1 app/s2)" ;;
		weight) assert_eq "$mode: weight landed" 3 "$(srv_weight lb1 app/s1)" ;;
		*) real_unchanged "$mode: $c" ;;
		esac
		set_real
	done
done
assert_match "wrong-pid: the fake did change its pid" "fault wrong-pid" \
	"$(grep "cmd 'show info' fault" "$T/fake.log" | head -1)"

e2e_done
