#!/bin/sh
# run.sh - runs cutover's libFuzzer targets (make fuzz): each binary
# build/fuzz/fuzz_<target> for FUZZ_SECONDS (default 60) on its seeds in
# tests/fuzz/corpus/<target>/, then prints one line per target with the
# runs executed and whether it crashed. The seeds are only read: inputs
# found are kept in build/fuzz/corpus/<target>/, crashing inputs in
# build/fuzz/crashes/<target>-*, libFuzzer's output in build/fuzz/logs/.
#
#   tests/fuzz/run.sh             every target (build them first:
#                                 make fuzz-bins, or make fuzz)
#   tests/fuzz/run.sh plan sess   those only
#
# Exit status 0 if no target crashed, 1 otherwise, 2 if a target is
# missing.
set -u
cd "$(dirname "$0")/../.." || exit 2
SECS=${FUZZ_SECONDS:-60}
OUT=build/fuzz

# Longest input per target: a few lines beyond the seeds for the reply
# parsers, more for the tabular replies whose header alone is ~1.3 KB.
max_len() {
	case "$1" in
	age) echo 64 ;;
	cli_level) echo 256 ;;
	classify) echo 1024 ;;
	info | map_get) echo 4096 ;;
	map_list | map_entries | plan) echo 8192 ;;
	*) echo 16384 ;;
	esac
}

# run_one TARGET: 0 no crash, 1 crash (or an error of libFuzzer itself).
run_one() {
	t=$1
	bin=$OUT/fuzz_$t
	log=$OUT/logs/$t.log
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: no $bin (run make fuzz-bins)"
		return 2
	fi
	mkdir -p "$OUT/corpus/$t" "$OUT/crashes" "$OUT/logs"
	set -- -max_total_time="$SECS" -max_len="$(max_len "$t")" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$OUT/crashes/$t-"
	if [ -f "tests/fuzz/dict/$t.dict" ]; then
		set -- "$@" -dict="tests/fuzz/dict/$t.dict"
	fi
	start=$(date +%s)
	"$bin" "$@" "$OUT/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
		"$log" | tail -1)
	if [ -z "$runs" ]; then	# died before the final stats: last status
		runs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" |
			tail -1)
	fi
	runs=${runs:-0}
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $t: $runs runs in ${took} s, no crash"
		return 0
	fi
	crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	echo "fuzz $t: CRASHED after $runs runs in ${took} s: input" \
		"${crash:-not saved}, log $log"
	grep -E '^(==[0-9]+==ERROR|SUMMARY)|runtime error|check failed' \
		"$log" | head -5
	return 1
}

if [ $# -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		t=${src#tests/fuzz/fuzz_}
		set -- "$@" "${t%.c}"
	done
fi
status=0
for t in "$@"; do
	run_one "$t"
	rc=$?
	[ "$rc" -gt "$status" ] && status=$rc
done
exit "$status"
