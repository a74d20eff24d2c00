#!/usr/bin/env bash
# shell-rolling.sh SOCK BACKEND HOOK [ARGS...] - the usual rolling upgrade
# as operators script it around HAProxy's runtime API: one socat per
# command and a once-a-second poll. The baseline of the rollout benchmark
# (rollout.sh); not used by cutover itself.
#
# For each server of BACKEND (in `show stat` order):
#   set server BACKEND/S state drain
#   while scur + qcur != 0 (show stat); sleep 1
#   set server BACKEND/S state maint
#   HOOK ARGS...   with {server}, {addr} and {port} replaced
#   until curl http://ADDR:PORT/health answers 200; sleep 1
#   set server BACKEND/S state ready
#
# Bounded: a drain or health wait gives up after 60 tries (exit 1, the
# server left as it is). Prints one line per server with where its time
# went and, at the end, "shell-rolling: N servers in MS ms".
set -u
SOCK=$1
BE=$2
shift 2

cmd() {
	echo "$1" | socat stdio "UNIX-CONNECT:$SOCK"
}

# "server addr" lines of the backend's servers.
servers() {
	cmd "show stat" | awk -F, '
		/^# / { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == be && $2 != "FRONTEND" && $2 != "BACKEND" {
			print $2, $col["addr"]
		}' be="$BE"
}

# Sessions plus queued requests on BACKEND/$1.
busy() {
	cmd "show stat" | awk -F, '$1 == be && $2 == srv { print $5 + $3 }' \
		be="$BE" srv="$1"
}

t0=${EPOCHREALTIME//[!0-9]/}
n=0
while read -r s addr; do
	[ -n "$s" ] || continue
	port=${addr##*:}
	host=${addr%:*}
	ta=${EPOCHREALTIME//[!0-9]/}
	cmd "set server $BE/$s state drain" >/dev/null
	tries=0
	while [ "$(busy "$s")" != 0 ]; do
		tries=$((tries + 1))
		[ "$tries" -le 60 ] || { echo "$s: still busy" >&2; exit 1; }
		sleep 1
	done
	tb=${EPOCHREALTIME//[!0-9]/}
	cmd "set server $BE/$s state maint" >/dev/null
	argv=()
	for a in "$@"; do
		a=${a//\{server\}/$s}
		a=${a//\{addr\}/$host}
		a=${a//\{port\}/$port}
		argv+=("$a")
	done
	"${argv[@]}" </dev/null >/dev/null ||
		{ echo "$s: upgrade hook failed" >&2; exit 1; }
	tc=${EPOCHREALTIME//[!0-9]/}
	tries=0
	until curl -fs -o /dev/null --max-time 2 "http://$host:$port/health" \
		</dev/null; do
		tries=$((tries + 1))
		[ "$tries" -le 60 ] || { echo "$s: not healthy" >&2; exit 1; }
		sleep 1
	done
	td=${EPOCHREALTIME//[!0-9]/}
	cmd "set server $BE/$s state ready" >/dev/null
	echo "shell-rolling: $BE/$s upgraded: drain+wait $(((tb - ta) / 1000)) ms," \
		"maint+hook $(((tc - tb) / 1000)) ms, health $(((td - tc) / 1000)) ms"
	n=$((n + 1))
done < <(servers)
t1=${EPOCHREALTIME//[!0-9]/}
echo "shell-rolling: $n servers in $(((t1 - t0) / 1000)) ms"
[ "$n" -gt 0 ]
