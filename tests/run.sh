#!/bin/sh
# run.sh - cutover's test driver (make test): builds the plain and the
# ASan+UBSan variants, runs every unit test (cmocka) and every end-to-end
# test (tests/e2e/NN-*.sh, real HAProxy on loopback) against each, and ends
# with one summary line "N passed, M failed".
#
#   tests/run.sh              everything
#   tests/run.sh --unit-only  unit tests, plain build only
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
		CUTOVER_TEST_DATA="$REPO/tests/unit/data" "$t" >"$log" 2>&1
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
		CUTOVER="$REPO/$1/cutover" TOOLS="$REPO/$1/tools" \
			timeout 300 bash "$t" >"$log" 2>&1
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

if [ "${1:-}" = "--unit-only" ]; then
	build "" build "" && run_unit build ""
else
	if build "" build ""; then
		run_unit build ""
		run_e2e build ""
	fi
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	if build "SAN=1" build/asan "-asan"; then
		run_unit build/asan "asan-"
		run_e2e build/asan "asan-"
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS
fi

if [ -n "$failures" ]; then
	echo "failed:$failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
