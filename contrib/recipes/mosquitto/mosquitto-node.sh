#!/usr/bin/env bash
# mosquitto-node.sh STEP SERVER ADDR PORT - the steps of a rolling restart
# (or package upgrade) of MQTT brokers behind HAProxy, for cutover's
# plan.yaml in this directory. cutover runs "restart" while the broker is
# out of every load balancer, and "check" as the probe before it gets
# clients again:
#
#   restart  installs the new version if $MOSQUITTO_INSTALL is set, then
#            restarts the broker ($MOSQUITTO_RESTART)
#   check    an MQTT round trip with the broker itself (not through the
#            load balancer): mosquitto_sub reads its $SYS/broker/version,
#            which must name $MOSQUITTO_EXPECT_VERSION if that is set
#
# Environment (%s stands for the server's name, e.g. its host name; words
# are split on blanks, no quoting):
#   MOSQUITTO_RESTART  default "systemctl restart mosquitto"; e.g.
#                      "ssh %s sudo systemctl restart mosquitto"
#   MOSQUITTO_INSTALL  e.g. "ssh %s sudo apt-get install -y mosquitto"
#   MOSQUITTO_EXPECT_VERSION  e.g. "2.0.18"
#   MOSQUITTO_SUB      mosquitto_sub and its options (default
#                      "mosquitto_sub"; e.g. "mosquitto_sub -u probe -P pw"
#                      or with --cafile for a TLS listener)
set -u
STEP=${1:-}
SERVER=${2:-}
ADDR=${3:-}
PORT=${4:-1883}

die() { printf '%s: %s\n' "$STEP" "$*" >&2; exit 1; }
fill() { printf '%s' "${1//%s/$2}"; }

[ -n "$SERVER" ] || die "usage: $0 STEP SERVER ADDR PORT"
case $STEP in
restart)
	if [ -n "${MOSQUITTO_INSTALL:-}" ]; then
		cmd=$(fill "$MOSQUITTO_INSTALL" "$SERVER")
		echo "installing on $SERVER: $cmd"
		# shellcheck disable=SC2086 # a command line: split on blanks
		$cmd || die "install failed: $cmd"
	fi
	cmd=$(fill "${MOSQUITTO_RESTART:-systemctl restart mosquitto}" "$SERVER")
	echo "restarting $SERVER: $cmd"
	# shellcheck disable=SC2086
	$cmd || die "restart failed: $cmd"
	;;
check)
	# shellcheck disable=SC2086
	v=$(${MOSQUITTO_SUB:-mosquitto_sub} -h "$ADDR" -p "$PORT" \
		-i "cutover-check-$$" -t '$SYS/broker/version' -C 1 -W 5 2>&1) ||
		die "no MQTT answer from $ADDR:$PORT: $v"
	if [ -n "${MOSQUITTO_EXPECT_VERSION:-}" ]; then
		case $v in
		*" $MOSQUITTO_EXPECT_VERSION") ;;
		*) die "$SERVER runs '$v', not $MOSQUITTO_EXPECT_VERSION" ;;
		esac
	fi
	echo "$SERVER: $v"
	;;
*)
	die "unknown step '$STEP' (restart, check)"
	;;
esac
