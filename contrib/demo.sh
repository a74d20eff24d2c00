#!/usr/bin/env bash
# demo.sh - `make demo`: HAProxy on haproxy-example.cfg in front of four
# demo backends (version 1.0) under a light HTTP load; `cutover rollout`
# upgrades them to 2.0 one by one, live; the load then reports how many of
# its requests failed. Everything runs on 127.0.0.1, on free ports, in a
# temporary directory; every process started here is stopped by PID.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
make -s cutover tools >/dev/null
CUTOVER=$REPO/cutover

D=$(mktemp -d "${TMPDIR:-/tmp}/cutover-demo.XXXXXX")
export DEMO_DIR=$D DEMO_BACKEND=$REPO/build/tools/backend
: >"$D/pids"
cleanup() {
	local p
	touch "$D/stop"
	while read -r p; do kill -TERM "$p" 2>/dev/null || true; done <"$D/pids"
	sleep 0.3
	while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$D/pids"
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

declare -A PORT
for n in 1 2 3 4; do
	s=web$n
	PORT[$s]=$(free_port)
	"$DEMO_BACKEND" --port "${PORT[$s]}" --version 1.0 --pidfile "$D/$s.pid" \
		--quiet </dev/null >"$D/$s.log" 2>&1 &
	echo "$!" >>"$D/pids"
done

FE=$(free_port)
sed -e "s|/run/haproxy/admin.sock|$D/admin.sock|" \
    -e "s|127.0.0.1:8080|127.0.0.1:$FE|" \
    -e "s|127.0.0.1:9001|127.0.0.1:${PORT[web1]}|" \
    -e "s|127.0.0.1:9002|127.0.0.1:${PORT[web2]}|" \
    -e "s|127.0.0.1:9003|127.0.0.1:${PORT[web3]}|" \
    -e "s|127.0.0.1:9004|127.0.0.1:${PORT[web4]}|" \
    haproxy-example.cfg >"$D/haproxy.cfg"
haproxy -W -db -f "$D/haproxy.cfg" >"$D/haproxy.log" 2>&1 &
echo "$!" >>"$D/pids"
sed "s|@DEMO_DIR@|$REPO/contrib/demo|" contrib/demo/plan.yaml >"$D/plan.yaml"
export CUTOVER_LB="unix:$D/admin.sock"
for _ in $(seq 100); do
	[ "$("$CUTOVER" -q status app --json 2>/dev/null | grep -o '"op":"up"' | wc -l)" -ge 8 ] && break
	sleep 0.1
done

# A light load: 4 keep-alive clients, 200 requests/s in all, each request
# held 20 ms by the backend.
"$REPO/build/tools/loadgen" --url "http://127.0.0.1:$FE/slow?ms=20" --clients 4 \
	--rate 200 --until-file "$D/stop" --report "$D/load" >/dev/null 2>"$D/load.err" &
LOAD=$!
echo "$LOAD" >>"$D/pids"

say "before: cutover status app"
sleep 1
"$CUTOVER" status app

say "cutover rollout plan.yaml --yes   (the plan: contrib/demo/plan.yaml)"
rc=0
"$CUTOVER" rollout "$D/plan.yaml" --yes || rc=$?

say "after: cutover status app"
"$CUTOVER" status app
sleep 1
touch "$D/stop"
wait "$LOAD" || true
say "result"
echo "8 requests now answered by version: $(for _ in 1 2 3 4 5 6 7 8; do curl -s "http://127.0.0.1:$FE/version"; done | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')"
# requests=N ok=N failed=N ... from the load generator
set -- $(cat "$D/load")
total=${1#requests=} failed=${3#failed=}
echo "$total requests, $failed failed (rollout exit code $rc)"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
