#!/usr/bin/env bash
# shed.sh - paced-shedding benchmark (run by run.sh, i.e. make bench; also
# runs alone once `make cutover tools` is done).
#
# N long-lived TCP clients (tcpclients, which reconnect at once when cut)
# through one HAProxy in TCP mode onto two test backends t1 and t2, half on
# each. Then t1's sessions are closed, in separate runs, side by side:
#
#   all at once  `set server app/t1 state drain` + `shutdown sessions
#                server app/t1` through socat (what rollouts usually do, and
#                cutover's drain.on_timeout: kill);
#   paced        `cutover shed app/t1 --rate R` for each R of
#                BENCH_SHED_RATES, and once with --jitter 20%.
#
# Each run starts a fresh set of clients (so that about half are on t1
# again: roundrobin over two ready servers) and a fresh --events file, in
# which every disconnect and reconnect of that run is due to the shedding.
# Reported per run, from the clients' events (their own monotonic clock):
#   peak       the most reconnects, of the clients cut from t1, in any
#              sliding 100 ms window (t_last - t_first < 100 ms, as
#              tcpclients' own peak_reconnects_100ms, printed alongside);
#   all back   first disconnect to last reconnect;
#   rate       (disconnects - 1) / (first to last disconnect), and
#              cutover's own "closed in D (X/s)" summary, both against R;
#   lost       clients cut and not connected again at the stop (tcpclients'
#              lost=, and from the events);
#   t2 cut     connections to t2 that were closed: nothing should close
#              them (a `shutdown session` on a stale pointer that HAProxy
#              has meanwhile reused for a new session would);
#   kernel     ListenOverflows and TCPSynRetrans over the run (whole
#              machine): a burst of reconnects that overflows the test
#              backend's accept queue (backlog 128) has handshakes
#              dropped, which the kernel retries only after 1 s: "all
#              back" of the all-at-once run is then about 1.1 s instead
#              of about 0.15 s.
# Then per R the ratio peak(all at once) / peak(paced) and the targets:
# achieved rate within +-10 % of R, peak at least 10x lower. Informative
# only: nothing here asserts a time or a rate. The run fails only if the
# setup fails or cutover shed exits non-zero.
#
# Environment: BENCH_SHED_CLIENTS (2000), BENCH_SHED_RATES ("100 500"),
# BENCH_SHED_JITTER_RATE (rate of the extra --jitter 20% run, 500; empty:
# no such run); lib.sh's E2E_KEEP=1 keeps the temp dir (events, reports).
#
# shellcheck source-path=SCRIPTDIR disable=SC2154,SC2317
# (SC2154: lib.sh sets PORT_*, FEPORT_* with printf -v; SC2317: the
# predicates are called through wait_for.)

if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -eu

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$BENCH_DIR/../.."

N=${BENCH_SHED_CLIENTS:-2000}
RATES=${BENCH_SHED_RATES:-"100 500"}
JITTER_RATE=${BENCH_SHED_JITTER_RATE-500}

E2E_DEADLINE=${E2E_DEADLINE:-150}
# shellcheck source=../e2e/lib.sh
. tests/e2e/lib.sh
e2e_init bench-shed
[ -x "$TOOLS/tcpclients" ] || e2e_bail "no $TOOLS/tcpclients: run 'make tools'"

start_backend t1 v1 --tcp --quiet
start_backend t2 v2 --tcp --quiet
start_lb_tcp lb1 "t1=$PORT_t1" "t2=$PORT_t2"
wait_lb_up lb1
SOCK=$(lb_sock lb1)
FE=$FEPORT_lb1

# ----------------------------------------------------------------------
# Helpers

# scur_of SRV: current sessions of app/SRV (one show stat through socat).
scur_of() {
	srv_scur lb1 "app/$1"
}

# sessions_are T1 T2: app/t1 and app/t2 hold exactly T1 and T2 sessions.
sessions_are() {
	local reply
	reply=$(lb_cmd lb1 "show stat app 4 -1") || return 1
	awk -F, -v a="$1" -v b="$2" '
		/^# / { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
		$2 == "t1" { t1 = $col["scur"] } $2 == "t2" { t2 = $col["scur"] }
		END { exit !(t1 == a && t2 == b) }' <<<"$reply"
}

# est PORT: established TCP connections whose local port is PORT, i.e.
# HAProxy's connections that the backend on PORT has taken (its health
# checks may add one for an instant).
est() {
	ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l
}

# settled T1 T2: HAProxy counts T1 and T2 sessions on app/t1 and app/t2
# and the backends hold at least that many connections. HAProxy counts a
# session on a server as soon as it is assigned, before the connection
# is up: when a burst of connects overflows a backend's accept queue
# (backlog 128), the dropped handshakes are retried only after 1 s, so
# HAProxy's count alone says "all back" too early.
settled() {
	sessions_are "$1" "$2" && [ "$(est "$PORT_t1")" -ge "$1" ] &&
		[ "$(est "$PORT_t2")" -ge "$2" ]
}

# wait_settled DESC T1 T2: settled twice, 300 ms apart (a health check's
# connection cannot stand in for a missing one twice).
wait_settled() {
	wait_for "$1" 30 settled "$2" "$3"
	sleep 0.3
	wait_for "$1" 30 settled "$2" "$3"
}

# tcpext: "ListenOverflows TCPSynRetrans" from /proc/net/netstat (the whole
# network namespace: others' traffic counts too), to tell a run whose
# reconnects overflowed a backend's accept queue (backlog 128), so that
# their SYNs were dropped and sent again after 1 s.
tcpext() {
	awk '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["ListenOverflows"] + 0, $c["TCPSynRetrans"] + 0 }' \
		/proc/net/netstat 2>/dev/null || echo "0 0"
}

# field KEY FILE: KEY=VALUE from a tcpclients report line.
field() {
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2"
}

# analyse EVENTS: "cut peak allback_ms span_ms rate_ev lost_ev others fails"
# over the clients whose connection to v1 (t1) was closed; others: the
# connections to v2 (t2) that were closed, which nothing should close;
# fails: connection attempts that failed before the backend's reply.
analyse() {
	awk '
		$2 == "disconnect" && $4 == "v1" {
			if (!nd) fd = $1
			ld = $1; nd++; cut[$3] = 1; up[$3] = 0
			next
		}
		$2 == "disconnect" { others++; next }
		$2 == "fail" { fails++; next }
		$2 == "reconnect" && ($3 in cut) {
			r[++nr] = $1; up[$3] = 1; lr = $1
		}
		END {
			j = 1; peak = 0
			for (i = 1; i <= nr; i++) {
				while (r[i] - r[j] >= 100) j++
				if (i - j + 1 > peak) peak = i - j + 1
			}
			lost = 0
			for (c in cut) if (!up[c]) lost++
			span = nd > 0 ? ld - fd : 0
			rate = (nd > 1 && span > 0) ? (nd - 1) * 1000 / span : -1
			printf "%d %d %d %d %.1f %d %d %d\n", nd, peak,
				(nr > 0 ? lr - fd : -1), span, rate, lost,
				others, fails
		}' "$1"
}

# pct A R: the deviation of A from R in percent, signed.
pct() {
	awk -v a="$1" -v r="$2" 'BEGIN { printf "%+.1f%%\n", (a - r) * 100 / r }'
}

# within10 A R: "met" if |A - R| <= 10 % of R, else "MISSED".
within10() {
	awk -v a="$1" -v r="$2" 'BEGIN {
		d = a - r; if (d < 0) d = -d
		print (d <= r / 10 ? "met" : "MISSED") }'
}

# ----------------------------------------------------------------------
# One run

# run_one TAG RATE [JITTER]: fresh clients, about half on t1; then t1's
# sessions closed all at once (RATE "all") or by cutover shed at RATE/s;
# waits until every client is on t2, stops the clients and appends to
# $T/results: "tag rate jitter on_t1 cut peak peak_tool allback_ms span_ms
# rate_ev rate_cutover lost lost_ev others fails wall_ms overflows synretrans".
run_one() {
	local tag=$1 rate=$2 jit=${3:-} on1 t0 t1 res rcut=- out
	local cut peak allback span rate_ev lost_ev others fails lost peak_tool
	local ov0 sr0 ov1 sr1

	lb_cmd lb1 "set server app/t1 state ready" >/dev/null
	wait_for "t1 ready" 5 output_is ready srv_admin lb1 app/t1
	wait_lb_up lb1
	wait_settled "no session left from the last run" 0 0

	bg_run "cl_$tag" "$TOOLS/tcpclients" --port "$FE" --clients "$N" \
		--until-file "$T/stop-$tag" --report "$T/$tag.report" \
		--events "$T/$tag.events"
	wait_for "$N clients connected" 30 output_is "$N" bash -c \
		"echo \$(( \$(printf 'show stat app 4 -1\n' | socat - UNIX-CONNECT:$SOCK |
			awk -F, '\$2 ~ /^t[12]\$/ { s += \$5 } END { print s + 0 }') ))"
	on1=$(scur_of t1)
	wait_settled "$N clients connected" "$on1" $((N - on1))
	sleep 0.3	# the last replies reach the clients

	read -r ov0 sr0 <<<"$(tcpext)"
	t0=$(now_ms)
	if [ "$rate" = all ]; then
		lb_cmd lb1 "set server app/t1 state drain" >/dev/null
		lb_cmd lb1 "shutdown sessions server app/t1" >/dev/null
	else
		out=0
		timeout -k 2 60 "$CUTOVER" --lb "unix:$SOCK" shed app/t1 \
			--rate "$rate/s" ${jit:+--jitter "$jit"} \
			>"$T/$tag.out" 2>"$T/$tag.err" || out=$?
		[ "$out" = 0 ] || e2e_bail "$tag: cutover shed exited $out" \
			"$(cat "$T/$tag.out" "$T/$tag.err")"
		rcut=$(sed -n 's/.*sessions* closed in [^ ]* (\([0-9.]*\)\/s, asked.*/\1/p' \
			"$T/$tag.out")
		[ -n "$rcut" ] || e2e_bail "$tag: no summary line from cutover shed" \
			"$(cat "$T/$tag.out" "$T/$tag.err")"
	fi
	t1=$(now_ms)
	wait_settled "$tag: every client on t2" 0 "$N"
	sleep 0.3	# the last reconnects get their replies
	read -r ov1 sr1 <<<"$(tcpext)"
	touch "$T/stop-$tag"
	bg_wait "cl_$tag" 20
	if [ ! -s "$T/$tag.report" ] || [ ! -s "$T/$tag.events" ]; then
		e2e_bail "$tag: no tcpclients report or events" "$ERR"
	fi
	read -r cut peak allback span rate_ev lost_ev others fails \
		<<<"$(analyse "$T/$tag.events")"
	lost=$(field lost "$T/$tag.report")
	peak_tool=$(field peak_reconnects_100ms "$T/$tag.report")
	res="$tag $rate ${jit:--} $on1 $cut $peak $peak_tool $allback $span"
	res="$res $rate_ev $rcut $lost $lost_ev $others $fails $((t1 - t0))"
	res="$res $((ov1 - ov0)) $((sr1 - sr0))"
	echo "$res" >>"$T/results"
}

echo "# shed: $N long-lived TCP clients on t1+t2 behind 1 HAProxy (tcp mode)," \
	"reconnecting at once when cut; cpus $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$T/results"
run_one all all
for r in $RATES; do
	run_one "paced$r" "$r"
done
[ -z "$JITTER_RATE" ] || run_one "jitter$JITTER_RATE" "$JITTER_RATE" 20%

# ----------------------------------------------------------------------
# Report

s2() {
	awk -v m="$1" 'BEGIN { if (m < 0) print "n/a"; else if (m < 1000) printf "%dms\n", m; else printf "%.2fs\n", m / 1000 }'
}

label_of() {	# RATE JITTER
	if [ "$1" = all ]; then
		echo "all at once (shutdown sessions server)"
	elif [ "$2" = - ]; then
		echo "cutover shed --rate $1/s"
	else
		echo "cutover shed --rate $1/s --jitter $2"
	fi
}

echo
echo "== 5. shedding t1's half of $N long-lived TCP sessions (clients reconnect at once): reconnects per 100 ms, all at once vs cutover shed"
peak_all=
while read -r tag rate jit on1 cut peak peak_tool allback span rate_ev rcut lost lost_ev others fails wall ovf synr; do
	[ "$rate" = all ] && peak_all=$peak
	printf 'shed    %-40s t1 %4s cut %4s  peak/100ms %4s (all clients %s)  all back %6s  lost %s  failed attempts %s  t2 sessions cut %s  (kernel: listen overflows %s, SYN retransmits %s)\n' \
		"$(label_of "$rate" "$jit")" "$on1" "$cut" "$peak" "$peak_tool" \
		"$(s2 "$allback")" "$((lost > lost_ev ? lost : lost_ev))" \
		"$fails" "$others" "$ovf" "$synr"
	[ "$rate" = all ] && continue
	printf 'shed    %-40s achieved: events %s/s (%s), cutover %s/s (%s), asked %s/s; closes over %s, command %s\n' \
		"" "$rate_ev" "$(pct "$rate_ev" "$rate")" "$rcut" \
		"$(pct "$rcut" "$rate")" "$rate" "$(s2 "$span")" "$(s2 "$wall")"
done <"$T/results"
while read -r tag rate jit on1 cut peak peak_tool allback span rate_ev rcut lost lost_ev others fails wall ovf synr; do
	[ "$rate" = all ] && continue
	ratio=$(awk -v a="$peak_all" -v b="$peak" 'BEGIN {
		if (b <= 0) print "n/a"; else printf (a / b >= 10 ? "%.0fx\n" : "%.1fx\n"), a / b }')
	tpeak=$(awk -v a="$peak_all" -v b="$peak" 'BEGIN {
		print (b > 0 && a >= 10 * b ? "met" : "MISSED") }')
	printf 'shed    %-40s targets: peak all-at-once/paced %s >= 10x %s; rate %s (events) %s (cutover) within +-10%% %s/%s; lost %s = 0 %s; t2 cut %s = 0 %s\n' \
		"$(label_of "$rate" "$jit")" "$ratio" "$tpeak" \
		"$(pct "$rate_ev" "$rate")" "$(pct "$rcut" "$rate")" \
		"$(within10 "$rate_ev" "$rate")" "$(within10 "$rcut" "$rate")" \
		"$((lost > lost_ev ? lost : lost_ev))" \
		"$([ "$lost" = 0 ] && [ "$lost_ev" = 0 ] && echo met || echo MISSED)" \
		"$others" "$([ "$others" = 0 ] && echo met || echo MISSED)"
done <"$T/results"

_e2e_cleanup
_E2E_DONE=1
exit 0
