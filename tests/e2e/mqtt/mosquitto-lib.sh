# mosquitto-lib.sh - Debian's mosquitto for the end-to-end tests, sourced
# after lib.sh: brokers that run in the foreground as the current user on
# free loopback ports, each with its own config and log under $T/mq, and
# tracked in $T/pids (the system's mosquitto service is not used).
#
#	mq_broker NAME        writes $T/mq/NAME.conf, sets MQPORT_<NAME>
#	mq_start NAME         starts it, waits until it answers MQTT
#	mq_pid NAME           its current PID
#
# shellcheck shell=bash

MQ_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}

mq_broker() {
	local name=$1 port
	_e2e_check_name "$name"
	command -v mosquitto_sub >/dev/null || e2e_bail "no mosquitto_sub"
	[ -x "$MOSQUITTO" ] || e2e_bail "no mosquitto at $MOSQUITTO"
	mkdir -p "$T/mq"
	port=$(free_port) || e2e_bail "mq_broker: no free port"
	cat >"$T/mq/$name.conf" <<-EOF
	# broker $name of $_E2E_NAME
	listener $port 127.0.0.1
	allow_anonymous true
	persistence false
	max_connections -1
	sys_interval 1
	log_dest file $T/mq-$name.log
	log_type error
	log_type warning
	log_type notice
	EOF
	printf -v "MQPORT_$name" '%s' "$port"
}

_mq_answers() {
	mosquitto_sub -h 127.0.0.1 -p "$1" -t '$SYS/broker/version' -C 1 -W 2
}

mq_start() {
	local v=MQPORT_$1
	MOSQUITTO=$MOSQUITTO "$MQ_LIB_DIR/restart-mosquitto.sh" "$T" "$1" \
		>>"$T/mq-$1.out" 2>&1 ||
		e2e_bail "mq_start $1 failed" "$(tail -n 5 "$T/mq-$1.out")"
	wait_for "broker $1 answers" 10 _mq_answers "${!v}"
}

mq_pid() {
	cat "$T/mq/$1.pid"
}
