#!/usr/bin/env bash
# 50-shed: paced shedding of long-lived TCP sessions on two HAProxy
# instances. 300 clients that reconnect when cut, spread over two servers
# t1 and t2 through both LBs; `cutover shed app/t1 --rate 100/s` drains t1
# and closes its sessions one by one: every client ends up connected to t2,
# none is lost, and the reconnects are spread out, unlike `shutdown
# sessions server` which sends them all back at once.
set -eu
. "$(dirname "$0")/lib.sh"
e2e_init 50-shed

start_backend t1 v1 --tcp
start_backend t2 v2 --tcp
start_lb_tcp lb1 "t1=$PORT_t1" "t2=$PORT_t2"
start_lb_tcp lb2 "t1=$PORT_t1" "t2=$PORT_t2"
wait_lb_up lb1
wait_lb_up lb2
LBS=(--lb "unix:$(lb_sock lb1)" --lb "tcp:$(lb_sock lb2 tcp)")

clients() {	# NAME LB COUNT
	local p=FEPORT_$2
	bg_run "$1" "$TOOLS/tcpclients" --port "${!p}" --clients "$3" \
		--until-file "$T/stop-$1" --report "$T/$1.report" --events "$T/$1.events"
}
field() { sed -n "s/.*[ ^]$2=\\([^ ]*\\).*/\\1/p" "$T/$1.report"; }
on_t1() { echo $(( $(srv_scur lb1 app/t1) + $(srv_scur lb2 app/t1) )); }

clients c1 lb1 150
clients c2 lb2 150
wait_for "300 clients connected" 20 output_is 300 \
	bash -c "echo \$(( $(printf '$(echo "show stat app 4 -1" | socat - UNIX-CONNECT:%s | awk -F, '\''$2 ~ /^t[12]$/ { s += $5 } END { print s }'\'') + ' "$T/lb1.sock" "$T/lb2.sock") 0 ))"
before=$(on_t1)
if [ "$before" -ge 100 ]; then ok "about half the clients on t1 ($before)"; else not_ok "clients on t1: $before"; fi

assert_rc "shed --rate 100/s exits 0" 0 "$CUTOVER" "${LBS[@]}" shed app/t1 --rate 100/s --jitter 20%
assert_match "says it drained first" "app/t1: drained first" "$OUT"
assert_match "reports what it closed" "app/t1: [0-9]+ sessions closed in .*asked 100.0/s" "$OUT"
closed=$(sed -n 's/.*app\/t1: \([0-9]*\) sessions closed.*/\1/p' <<<"$OUT")
assert_eq "t1 has no session left" 0 "$(on_t1)"
assert_eq "t1 drained on lb1" drain "$(srv_admin lb1 app/t1)"
assert_eq "t1 drained on lb2" drain "$(srv_admin lb2 app/t1)"
wait_for "clients back on t2" 20 output_is 300 bash -c \
	"echo \$(( \$(echo 'show stat app 4 -1' | socat - UNIX-CONNECT:$T/lb1.sock | awk -F, '\$2 == \"t2\" { print \$5 }') + \$(echo 'show stat app 4 -1' | socat - UNIX-CONNECT:$T/lb2.sock | awk -F, '\$2 == \"t2\" { print \$5 }') ))"
touch "$T/stop-c1" "$T/stop-c2"
bg_wait c1 30
bg_wait c2 30
lost=$(( $(field c1 lost) + $(field c2 lost) ))
disc=$(( $(field c1 disconnects) + $(field c2 disconnects) ))
assert_eq "no client lost" 0 "$lost"
assert_eq "every client cut once, all by cutover" "$closed" "$disc"
assert_match "lb1 clients all on v2 now" "^v2:150$" "$(field c1 versions)"
assert_match "lb2 clients all on v2 now" "^v2:150$" "$(field c2 versions)"
# One by one: the reconnects of the ~150 cut clients are spread out. All
# at once lands them within ~100 ms (see make bench); at 100/s a 100 ms
# window holds about 10. A generous bound, to tell the two apart.
peak=$(cat "$T/c1.events" "$T/c2.events" | awk '$2 == "reconnect" { print $1 }' | sort -n |
	awk '{ t[NR] = $1 } END { m = 0; j = 1; for (i = 1; i <= NR; i++) { while (t[i] - t[j] >= 100) j++; if (i - j + 1 > m) m = i - j + 1 } print m }')
if [ "$peak" -le $((closed / 3)) ]; then
	ok "reconnects spread out: at most $peak in any 100 ms of $closed"
else
	not_ok "reconnects bunched: $peak of $closed in 100 ms"
fi

# Usage errors.
assert_rc "shed without --rate: exit 2" 2 "$CUTOVER" "${LBS[@]}" shed app/t2
assert_rc "shed of an unknown server: exit 2" 2 "$CUTOVER" "${LBS[@]}" shed app/nope --rate 10/s
assert_rc "shed with a bad rate: exit 2" 2 "$CUTOVER" "${LBS[@]}" shed app/t2 --rate fast
assert_eq "t2 untouched" ready "$(srv_admin lb1 app/t2)"

e2e_done
