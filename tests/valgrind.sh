#!/bin/sh
# valgrind.sh - cutover under valgrind memcheck, for `make valgrind`:
# tests/run.sh --valgrind points the e2e harness's CUTOVER here, and runs
# the unit test binaries through it too (VALGRIND_PROG).
#
#   tests/valgrind.sh ARGS...     runs $VALGRIND_PROG (default: the plain
#                                 build's cutover) with ARGS
#
# valgrind's report goes to $VALGRIND_LOGDIR/$VALGRIND_TEST-PID.log
# (default build/valgrind/cutover-PID.log), never to stderr, which the
# tests compare. A definite or indirect leak or any memory error makes the
# exit status 99. exec: the PID the tests see and signal is the program's.
REPO=$(cd "$(dirname "$0")/.." && pwd)
prog=${VALGRIND_PROG:-$REPO/build/cutover}
dir=${VALGRIND_LOGDIR:-$REPO/build/valgrind}
mkdir -p "$dir" || exit 2
exec valgrind --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--track-fds=no --child-silent-after-fork=yes \
	--log-file="$dir/${VALGRIND_TEST:-cutover}-%p.log" \
	"$prog" "$@"
