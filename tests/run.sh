#!/bin/sh
# run.sh - cutover's test driver (make test): builds the plain and the
# ASan+UBSan variants, runs every unit test (cmocka) and every end-to-end
# test (tests/e2e/NN-*.sh, real HAProxy on loopback) against each, the
# two builds side by side (E2E_PARALLEL=0: one after the other); then,
# once, builds the libFuzzer targets (tests/fuzz/, clang) and runs each
# for FUZZ_SECONDS (default 3, so the step stays under a minute), one test
# per target. It ends with one summary line "N passed, M failed".
#
#   tests/run.sh              everything
#   tests/run.sh --unit-only  unit tests, plain build only
#   tests/run.sh --fuzz-only  the short fuzz runs only
#   tests/run.sh --valgrind   unit and e2e tests, plain build only, every
#                             unit test binary and every cutover run under
#                             valgrind memcheck (tests/valgrind.sh, make
#                             valgrind); E2E_TIME_MULT defaults to 4; a
#                             valgrind log with errors counts as a failure
#   E2E_ONLY=03 tests/run.sh  only e2e tests whose name starts with 03
#
# End-to-end tests marked "# e2e: real-software" (they drive ejabberd,
# mosquitto and real clients, and take most of their time in those) run
# once, against the plain build; under ASan they are skipped and say so.
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)
LOGDIR=${TEST_LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"

VALGRIND=0
if [ "${1:-}" = "--valgrind" ]; then
	VALGRIND=1
	LOGDIR=${TEST_LOGDIR:-build/test-logs/valgrind}
	VALGRIND_LOGDIR=$REPO/build/valgrind
	export VALGRIND_LOGDIR
	E2E_TIME_MULT=${E2E_TIME_MULT:-4}
	export E2E_TIME_MULT
	mkdir -p "$LOGDIR"
	rm -rf "$VALGRIND_LOGDIR"
	mkdir -p "$VALGRIND_LOGDIR"
fi
# An e2e test gets 300 s, times E2E_TIME_MULT.
E2E_LIMIT=$(awk -v m="${E2E_TIME_MULT:-1}" 'BEGIN { printf "%d\n", 300 * m }')

# E2E tests that cannot work under valgrind, skipped in that run only,
# each with its reason: "NN-name:reason" lines.
VALGRIND_SKIP=""

passed=0
failed=0
failures=""

note_fail() {
	failures="$failures
  $1"
}

# add_counts P F
add_counts() {
	passed=$((passed + $1))
	failed=$((failed + $2))
}

build() {
	# $1: "" or "SAN=1"
	if ! make -s -j"$JOBS" $1 "$2/cutover" unit-bins tools >"$LOGDIR/build$3.log" 2>&1; then
		cat "$LOGDIR/build$3.log" >&2
		echo "build${3} failed" >&2
		add_counts 0 1
		note_fail "build$3"
		return 1
	fi
	return 0
}

run_unit() {
	# $1: build dir, $2: label
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		name="$2$(basename "$t")"
		log="$LOGDIR/$name.log"
		if [ "$VALGRIND" = 1 ]; then
			CUTOVER_TEST_DATA="$REPO/tests/unit/data" \
				VALGRIND_PROG="$REPO/$t" VALGRIND_TEST="unit-$name" \
				sh tests/valgrind.sh >"$log" 2>&1
		else
			CUTOVER_TEST_DATA="$REPO/tests/unit/data" "$t" >"$log" 2>&1
		fi
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1	# crashed or sanitizer report
		fi
		add_counts "$p" "$f"
		if [ "$f" -ne 0 ]; then
			note_fail "$name (see $log)"
			tail -40 "$log" >&2
		fi
		echo "unit $name: $p passed, $f failed"
	done
}

run_e2e() {
	# $1: build dir, $2: label
	for t in tests/e2e/[0-9][0-9]-*.sh; do
		[ -f "$t" ] || continue
		base=$(basename "$t" .sh)
		case "$base" in "${E2E_ONLY:-}"*) ;; *) continue ;; esac
		name="$2$base"
		if [ -n "$2" ] && grep -q '^# e2e: real-software' "$t"; then
			echo "e2e  $name: skipped (real software: run once, plain build)"
			continue
		fi
		log="$LOGDIR/$name.log"
		cutover="$REPO/$1/cutover"
		if [ "$VALGRIND" = 1 ]; then
			why=$(echo "$VALGRIND_SKIP" | sed -n "s/^$base://p")
			if [ -n "$why" ]; then
				echo "e2e  $name: skipped under valgrind: $why"
				continue
			fi
			cutover="$REPO/tests/valgrind.sh"
		fi
		CUTOVER="$cutover" TOOLS="$REPO/$1/tools" VALGRIND_TEST="$base" \
			timeout "$E2E_LIMIT" bash "$t" >"$log" 2>&1
		rc=$?
		line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
		p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
		fi
		if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
			echo "sanitizer report in $log" >&2
			f=$((f + 1))
		fi
		add_counts "$p" "$f"
		if [ "$f" -ne 0 ]; then
			note_fail "$name (see $log)"
			grep -E '^not ok|ERROR|runtime error' "$log" | head -20 >&2
		fi
		echo "e2e  $name: $p passed, $f failed"
	done
}

run_fuzz() {
	cc=${FUZZ_CC:-clang}
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "fuzz: $cc not found: the fuzzers need clang and" \
			"libclang-rt-14-dev (make deps installs them)" >&2
		add_counts 0 1
		note_fail "fuzz ($cc not found)"
		return 1
	fi
	if ! make -s -j"$JOBS" fuzz-bins >"$LOGDIR/build-fuzz.log" 2>&1; then
		tail -40 "$LOGDIR/build-fuzz.log" >&2
		echo "build-fuzz failed (libFuzzer: libclang-rt-14-dev)" >&2
		add_counts 0 1
		note_fail "build-fuzz (see $LOGDIR/build-fuzz.log)"
		return 1
	fi
	for src in tests/fuzz/fuzz_*.c; do
		t=${src#tests/fuzz/fuzz_}
		t=${t%.c}
		log="$LOGDIR/fuzz-$t.log"
		if FUZZ_SECONDS=${FUZZ_SECONDS:-3} sh tests/fuzz/run.sh "$t" \
			>"$log" 2>&1; then
			add_counts 1 0
			echo "fuzz $t: 1 passed, 0 failed"
		else
			add_counts 0 1
			note_fail "fuzz $t (see $log)"
			cat "$log" >&2
			echo "fuzz $t: 0 passed, 1 failed"
		fi
	done
}

# Every valgrind log with an error in it is one failure, named.
valgrind_summary() {
	bad=0
	total=0
	list=""
	for f in "$VALGRIND_LOGDIR"/*.log; do
		[ -f "$f" ] || continue
		total=$((total + 1))
		what=$(grep -E -m 1 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]|Invalid (read|write|free)|uninitialised|Mismatched free|overlap' "$f" |
			sed 's/^==[0-9]*== *//')
		[ -n "$what" ] || continue
		bad=$((bad + 1))
		list="$list
  ${f#"$REPO"/}: $what"
	done
	echo "valgrind: $bad of $total reports with errors$list"
	if [ "$bad" -gt 0 ]; then
		add_counts 0 "$bad"
		note_fail "$bad valgrind report(s) with errors (see above)"
	fi
}

# shellcheck disable=SC2030,SC2031  # the counts come back through files
# run_stream BUILD_DIR LABEL OUT: unit then e2e tests of one build, in a
# subshell; its counts and failures go to OUT.counts and OUT.fails.
run_stream() (
	passed=0
	failed=0
	failures=""
	run_unit "$1" "$2"
	run_e2e "$1" "$2"
	echo "$passed $failed" >"$3.counts"
	printf '%s' "$failures" >"$3.fails"
)

# add_stream OUT: adds what run_stream left in OUT.*; none means it died.
add_stream() {
	if read -r sp sf <"$1.counts" 2>/dev/null; then
		add_counts "$sp" "$sf"
		failures="$failures$(cat "$1.fails")"
	else
		add_counts 0 1
		note_fail "${1##*/} (ended without counts)"
	fi
	rm -f "$1.counts" "$1.fails"
}

if [ "${1:-}" = "--unit-only" ]; then
	build "" build "" && run_unit build ""
elif [ "${1:-}" = "--fuzz-only" ]; then
	run_fuzz
elif [ "$VALGRIND" = 1 ]; then
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "valgrind not found (apt-get install valgrind)" >&2
		exit 2
	fi
	if build "" build ""; then
		run_unit build ""
		run_e2e build ""
	fi
	valgrind_summary
else
	plain_ok=0
	asan_ok=0
	build "" build "" && plain_ok=1
	build "SAN=1" build/asan "-asan" && asan_ok=1
	# The ASan pass runs next to the plain one (E2E_PARALLEL=0: after
	# it): the tests mostly wait on timers and sockets, so two at a time
	# roughly halve the wall time. Its lines are shown once it ends.
	apid=
	if [ "$asan_ok" = 1 ]; then
		ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
			run_stream build/asan "asan-" "$LOGDIR/stream-asan" \
			>"$LOGDIR/stream-asan.out" 2>&1 &
		apid=$!
		if [ "${E2E_PARALLEL:-1}" = 0 ]; then
			wait "$apid"
		fi
	fi
	if [ "$plain_ok" = 1 ]; then
		run_stream build "" "$LOGDIR/stream-plain"
		add_stream "$LOGDIR/stream-plain"
	fi
	if [ -n "$apid" ]; then
		wait "$apid"
		cat "$LOGDIR/stream-asan.out"
		add_stream "$LOGDIR/stream-asan"
	fi
	run_fuzz
fi

if [ -n "$failures" ]; then
	echo "failed:$failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
