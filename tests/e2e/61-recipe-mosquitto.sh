#!/usr/bin/env bash
# 61-recipe-mosquitto: the mosquitto recipe (contrib/recipes/mosquitto) on
# real brokers. Two of Debian's mosquitto brokers on loopback behind a real
# HAProxy in TCP mode; 300 real MQTT clients (python3-paho-mqtt), each
# subscribed to its own topic, reconnecting at once when cut. cutover runs
# the recipe's plan: each broker is drained, after a grace time its
# clients are closed one by one at the plan's rate (so they come back on
# the other broker at that pace), the broker really restarts (SIGTERM,
# then a new mosquitto process: what systemctl restart does), and an MQTT
# round trip with it must pass before it gets clients again. At the end
# every client is connected, none lost, every client that was cut came
# back, no connect attempt failed, every client's message makes a round
# trip through its broker, and both brokers run new processes. For
# comparison the test then restarts one broker the usual way, with its
# clients on it, and reports how they came back.
# e2e: real-software
set -eu
E2E_DEADLINE=${E2E_DEADLINE:-180}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/recipes-lib.sh"
. "$(dirname "$0")/mqtt/mosquitto-lib.sh"
e2e_init 61-recipe-mosquitto

PY=/usr/bin/python3
CLIENTS=300
RATE=100

mq_broker mq1
mq_broker mq2
mq_start mq1
mq_start mq2
pid1=$(mq_pid mq1)
pid2=$(mq_pid mq2)

fe=$(free_port)
cat >"$T/lb1.cfg" <<CFG
global
    maxconn 4000
    stats socket $T/lb1.sock level admin
    stats maxconn 20
defaults
    mode tcp
    timeout connect 1s
    timeout client 5m
    timeout server 5m
    retries 3
    option redispatch
frontend mqtt_in
    bind 127.0.0.1:$fe
    default_backend mqtt
backend mqtt
    balance leastconn
    server mq1 127.0.0.1:$MQPORT_mq1 check inter 500ms
    server mq2 127.0.0.1:$MQPORT_mq2 check inter 500ms
CFG
start_lb_cfg lb1 "$T/lb1.cfg"
wait_lb_up lb1 mqtt

bg_run mqtt "$PY" "$E2E_LIB_DIR/mqtt/mqttclients.py" --port "$fe" \
	--clients "$CLIENTS" --until-file "$T/stop" --status "$T/mqtt.status" \
	--report "$T/mqtt.report" --events "$T/mqtt-events.log"
clients_up() { grep -q "^connected=$1 " "$T/mqtt.status"; }
# reconnect_peak FROM TO: clients that came back (re)connected between the
# two HH:MM:SS.mmm times of the events log, and the most in any 100 ms.
reconnect_peak() {
	awk -v a="$1" -v b="$2" '$1 >= a && $1 < b && $2 == "up" { print $1 }' \
		"$T/mqtt-events.log" |
		awk -F: '{ t[n++] = ($1 * 3600 + $2 * 60 + $3) * 1000 }
			END { lo = 0; best = 0
				for (hi = 0; hi < n; hi++) {
					while (t[hi] - t[lo] >= 100) lo++
					if (hi - lo + 1 > best) best = hi - lo + 1
				}
				print n + 0, best }'
}
wait_for "$CLIENTS clients connected" 60 clients_up "$CLIENTS"
echo "# before: $(cat "$T/mqtt.status"); mq1 $(srv_scur lb1 mqtt/mq1), mq2 $(srv_scur lb1 mqtt/mq2) sessions"

# The recipe's plan as it is, but for the LB, where the hooks are,
# shorter times and one passing probe (every change is checked to apply).
recipe_plan mosquitto plan.yaml "$T/plan.yaml" "$T/lb1.sock"
recipe_sed "$T/plan.yaml" '^  timeout: 30s ' '  timeout: 500ms '
recipe_sed "$T/plan.yaml" '^  shed_rate: 100/s ' "  shed_rate: $RATE/s "
recipe_sed "$T/plan.yaml" '^  rise: 2' '  rise: 1'
recipe_sed "$T/plan.yaml" '^  interval: 1s' '  interval: 200ms'
recipe_sed "$T/plan.yaml" '^  for: 30s ' '  for: 2s '

export MOSQUITTO_RESTART="$E2E_LIB_DIR/mqtt/restart-mosquitto.sh $T %s"
export MOSQUITTO_EXPECT_VERSION
MOSQUITTO_EXPECT_VERSION=$(mosquitto_sub -h 127.0.0.1 -p "$MQPORT_mq1" \
	-t '$SYS/broker/version' -C 1 -W 5 | sed 's/.* //')
t0=$(now_ms)
roll_from=$(date +%H:%M:%S.%N | cut -c1-12)
assert_rc "the mosquitto recipe restarts both brokers" 0 \
	"$CUTOVER" rollout "$T/plan.yaml" --yes
t_roll=$(($(now_ms) - t0))
echo "$OUT" >"$T/rollout.out"
flat=$(tr '\n' ' ' <<<"$OUT")
assert_match "summary" "rollout done: 2 servers upgraded" "$OUT"
for b in mq1 mq2; do
	assert_match "$b: clients shed after the grace time" \
		"mqtt/$b: wait_idle -> shedding .*mqtt/$b \\[shed\\] [0-9]+ closed at [0-9.]+/s, 0 left.*mqtt/$b: shedding -> maint" "$flat"
	assert_match "$b restarted, then probed" \
		"mqtt/$b \\[upgrade\\] started broker $b .*mqtt/$b: upgrading -> probing .*mqtt/$b: probing -> enabling" "$flat"
	assert_eq "$b ready again" ready "$(srv_admin lb1 "mqtt/$b")"
done
shed1=$(sed -n 's|.*mqtt/mq1 \[shed\] \([0-9]*\) closed at \([0-9.]*\)/s.*|\1 at \2/s|p' <<<"$OUT")
shed2=$(sed -n 's|.*mqtt/mq2 \[shed\] \([0-9]*\) closed at \([0-9.]*\)/s.*|\1 at \2/s|p' <<<"$OUT")
[ "$(mq_pid mq1)" != "$pid1" ] && ok "mq1 is a new process" || not_ok "mq1 is a new process"
[ "$(mq_pid mq2)" != "$pid2" ] && ok "mq2 is a new process" || not_ok "mq2 is a new process"

# Every client shed has come back (the status file lags up to 200 ms).
shed_total=$((${shed1%% *} + ${shed2%% *}))
all_back() {
	grep -q "^connected=$CLIENTS cut=[0-9]* cuts=$shed_total " "$T/mqtt.status"
}
wait_for "the $shed_total clients shed connected again" 30 all_back
status_after=$(cat "$T/mqtt.status")
assert_match "no connect attempt failed during the rollout" " failures=0$" "$status_after"

# For comparison, the usual way: restart a broker with its clients on it.
n_on=$(srv_scur lb1 mqtt/mq1)
cuts_before=$(sed -n 's/.* cuts=\([0-9]*\) .*/\1/p' "$T/mqtt.status")
mark=$(date +%H:%M:%S.%N | cut -c1-12)
"$E2E_LIB_DIR/mqtt/restart-mosquitto.sh" "$T" mq1 >>"$T/mq-mq1.out" 2>&1
back_after_restart() {
	grep -q "^connected=$CLIENTS cut=[0-9]* cuts=$((cuts_before + n_on)) " \
		"$T/mqtt.status"
}
wait_for "$CLIENTS clients connected after a plain restart" 30 back_after_restart
naive_fail=$(awk -v m="$mark" '$1 >= m && $2 == "fail"' "$T/mqtt-events.log" | grep -c . || true)
read -r naive_n naive_peak <<<"$(reconnect_peak "$mark" 99)"
read -r roll_n roll_peak <<<"$(reconnect_peak "$roll_from" "$mark")"
echo "# plain restart of mq1 with $n_on clients on it: $naive_n reconnects," \
	"at most $naive_peak in 100 ms, $naive_fail failed attempts"
echo "# the recipe: $roll_n reconnects, at most $roll_peak in 100 ms"
assert_match "the recipe spread the reconnects out (peak $roll_peak vs $naive_peak)" \
	'^yes$' "$( ((roll_peak * 2 < naive_peak)) && echo yes)"
touch "$T/stop"
bg_wait mqtt 60
report=$(cat "$T/mqtt.report")
echo "# clients: $report"
jnum() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$report" "$1"; }
assert_eq "every client connected at the end" "$CLIENTS" "$(jnum connected)"
assert_eq "no client lost" 0 "$(jnum lost)"
assert_match "clients were cut (shed)" '^[1-9][0-9]*$' "$(jnum cuts)"
assert_eq "every cut client came back" "$(jnum cuts)" "$(jnum reconnects)"
assert_eq "every client's message made a round trip" "$CLIENTS" "$(jnum delivered)"
echo "# measured: rollout ${t_roll} ms for 2 brokers; clients=$CLIENTS" \
	"shed mq1: $shed1, mq2: $shed2 (plan: $RATE/s); after it: $status_after;" \
	"reconnects $roll_n, peak $roll_peak per 100 ms (plain restart: $naive_peak)"

e2e_done
