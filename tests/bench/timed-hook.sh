#!/usr/bin/env bash
# timed-hook.sh FILE CMD [ARGS...] - runs CMD, then appends its own wall
# time in milliseconds to FILE as "ms=N rc=N" and exits with its status.
# The rollout benchmark (rollout.sh) wraps the same upgrade hook with it
# for the shell loop and for cutover, so that both subtract the same
# thing from their total time.
set -u
file=$1
shift
t0=${EPOCHREALTIME//[!0-9]/}
rc=0
"$@" || rc=$?
t1=${EPOCHREALTIME//[!0-9]/}
echo "ms=$(((t1 - t0) / 1000)) rc=$rc" >>"$file"
exit "$rc"
