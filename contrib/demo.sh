#!/usr/bin/env bash
# demo.sh - `make demo`: HAProxy on haproxy-example.cfg in front of four
# demo backends (version 1.0), under a light load of HTTP clients; cutover
# upgrades them to 2.0 one by one (drain --wait, restart, undrain
# --wait-up) and the load reports how many requests failed.
# Everything runs on 127.0.0.1, on free ports, in a temporary directory;
# every process started here is stopped by PID at the end.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
make -s cutover tools >/dev/null
CUTOVER=$REPO/cutover
BACKEND=$REPO/build/tools/backend

D=$(mktemp -d "${TMPDIR:-/tmp}/cutover-demo.XXXXXX")
PIDS=()
cleanup() {
	local p
	touch "$D/stop"
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used=" "
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 10000))
		case $used in *" $p "*) continue ;; esac
		ss -Htln "sport = :$p" 2>/dev/null | grep -q . && continue
		used="$used$p "
		echo "$p"
		return
	done
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Four backends, version 1.0.
declare -A PORT BPID
start_backend() {	# name version
	"$BACKEND" --port "${PORT[$1]}" --version "$2" --quiet >"$D/$1.log" 2>&1 &
	BPID[$1]=$!
	PIDS+=("$!")
	for _ in $(seq 100); do
		grep -q listening "$D/$1.log" && return 0
		sleep 0.05
	done
	echo "demo: backend $1 did not start" >&2
	exit 1
}
for n in 1 2 3 4; do
	PORT[web$n]=$(free_port)
	start_backend "web$n" 1.0
done

# HAProxy on the example configuration, paths and ports made private.
FE=$(free_port)
sed -e "s|/run/haproxy/admin.sock|$D/admin.sock|" \
    -e "s|127.0.0.1:8080|127.0.0.1:$FE|" \
    -e "s|127.0.0.1:9001|127.0.0.1:${PORT[web1]}|" \
    -e "s|127.0.0.1:9002|127.0.0.1:${PORT[web2]}|" \
    -e "s|127.0.0.1:9003|127.0.0.1:${PORT[web3]}|" \
    -e "s|127.0.0.1:9004|127.0.0.1:${PORT[web4]}|" \
    haproxy-example.cfg >"$D/haproxy.cfg"
haproxy -W -db -f "$D/haproxy.cfg" >"$D/haproxy.log" 2>&1 &
PIDS+=("$!")
export CUTOVER_LB="unix:$D/admin.sock"
for _ in $(seq 100); do
	"$CUTOVER" -q status >/dev/null 2>&1 && break
	sleep 0.05
done

# Light load: 4 clients in a loop, each request a new connection.
load() {
	while [ ! -f "$D/stop" ]; do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
			"http://127.0.0.1:$FE/slow?ms=20" >>"$D/codes.$1" || echo 000 >>"$D/codes.$1"
	done
}
for c in 1 2 3 4; do
	load "$c" &
	PIDS+=("$!")
done

say "the cluster before: cutover status"
sleep 1
"$CUTOVER" status app

for n in 1 2 3 4; do
	s=web$n
	say "upgrading $s to 2.0"
	echo "\$ cutover drain app/$s --wait --timeout 1m"
	"$CUTOVER" drain "app/$s" --wait --timeout 1m
	echo "(upgrade: stop $s 1.0, start $s 2.0 on the same port)"
	kill -TERM "${BPID[$s]}"
	wait "${BPID[$s]}" 2>/dev/null || true
	start_backend "$s" 2.0
	echo "\$ cutover undrain app/$s --wait-up --timeout 1m"
	"$CUTOVER" undrain "app/$s" --wait-up --timeout 1m
done

say "the cluster after: cutover status"
"$CUTOVER" status app
touch "$D/stop"
sleep 0.5
versions=$(for _ in 1 2 3 4 5 6 7 8; do curl -s "http://127.0.0.1:$FE/"; done | sort | uniq -c)
total=$(cat "$D"/codes.* | wc -l)
failed=$(grep -cv '^200$' "$D"/codes.* | awk -F: '{ s += $NF } END { print s + 0 }')
say "result"
echo "answers now: $versions"
echo "$total requests, $failed failed"
[ "$failed" -eq 0 ]
