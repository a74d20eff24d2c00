#!/usr/bin/env bash
# mongooseim-node.sh STEP SERVER [ADDR PORT] - the steps of MongooseIM's
# rolling upgrade ("Rolling upgrade" in MongooseIM's operation guide), one
# node at a time, for cutover's plan.yaml in this directory, and the
# retirement of the old cluster for bluegreen.yaml:
#
#   cluster  the cluster is healthy as SERVER's node sees it: "mongooseimctl
#            mnesia info" lists every node of $MONGOOSEIM_NODES under
#            "running db nodes" (the guide's step 1 and 6)
#   stop     mongooseimctl stop, waits until the node is down
#   install  installs the new version ($MONGOOSEIM_INSTALL)
#   start    mongooseimctl start unless it runs, waits for mongooseimctl
#            status to say started
#   check    (the probe) started, the version if $MONGOOSEIM_EXPECT_VERSION
#            is set, the cluster step, and a real XMPP login on ADDR:PORT
#            if $XMPP_PROBE_JID is set
#   retire   stops the node of every server named after the step
#            (bluegreen.yaml: the old cluster, once it has no connections)
#
# Environment (%s stands for a server's name, e.g. its host name; words are
# split on blanks, no quoting):
#   MONGOOSEIMCTL     how to run mongooseimctl for a node (default
#                     "mongooseimctl"), e.g. "ssh %s sudo mongooseimctl"
#   MONGOOSEIM_NODE   Erlang node name of a server (default mongooseim@%s)
#   MONGOOSEIM_NODES  every node of the cluster, e.g. "mongooseim@n1
#                     mongooseim@n2 mongooseim@n3" (required by cluster)
#   MONGOOSEIM_INSTALL  e.g. "ssh %s sudo apt-get install -y
#                     /tmp/mongooseim_6.2.1-1~debian12_amd64.deb"
#   MONGOOSEIM_EXPECT_VERSION  e.g. 6.2.1 ("MongooseIM version 6.2.1" or
#                     "6.2.1" anywhere in mongooseimctl status)
#   MONGOOSEIM_WAIT   seconds to wait for a node to stop or start (120)
#   XMPP_PROBE_JID, XMPP_PROBE_PASSWORD, XMPP_PROBE_TLS,
#   XMPP_PROBE_INSECURE  as in ../common/xmpp-login-check.py
set -u
STEP=${1:-}
SERVER=${2:-}
ADDR=${3:-}
PORT=${4:-5222}
HERE=$(cd "$(dirname "$0")" && pwd)
WAIT=${MONGOOSEIM_WAIT:-120}

die() { printf '%s: %s\n' "$STEP" "$*" >&2; exit 1; }
fill() { printf '%s' "${1//%s/$2}"; }

# ctl SERVER ARGS...: mongooseimctl for that server's node.
ctl() {
	local cmd
	cmd=$(fill "${MONGOOSEIMCTL:-mongooseimctl}" "$1")
	shift
	# shellcheck disable=SC2086 # a command prefix: split on blanks
	$cmd "$@"
}

running() { ctl "$1" status >/dev/null 2>&1; }
not_running() { ! running "$1"; }

wait_until() {
	local what=$1 i
	shift
	for ((i = 0; i < WAIT * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	die "$what: not after ${WAIT}s"
}

# running_db_nodes SERVER: the nodes of "running db nodes = [a, b]", one a
# line.
running_db_nodes() {
	ctl "$1" mnesia info 2>/dev/null |
		sed -n 's/^ *running db nodes *= *\[\(.*\)\].*/\1/p' |
		tr ',' '\n' | tr -d " '"
}

# cluster_ok SERVER: prints what is missing and fails, or succeeds.
cluster_ok() {
	local have n missing=
	[ -n "${MONGOOSEIM_NODES:-}" ] ||
		die "set MONGOOSEIM_NODES to the cluster's nodes"
	have=$(running_db_nodes "$1")
	for n in $MONGOOSEIM_NODES; do
		printf '%s\n' "$have" | grep -qxF "$n" || missing="$missing $n"
	done
	if [ -n "$missing" ]; then
		echo "running db nodes on $(node_of "$1"): [$(echo $have | tr ' ' ',')]; missing:$missing"
		return 1
	fi
	echo "running db nodes = [$(echo $have | tr ' ' ',')]"
}

node_of() { fill "${MONGOOSEIM_NODE:-mongooseim@%s}" "$1"; }

[ -n "$SERVER" ] || die "usage: $0 STEP SERVER [ADDR PORT]"
NODE=$(node_of "$SERVER")
case $STEP in
cluster)
	running "$SERVER" || die "$NODE is not running"
	out=$(cluster_ok "$SERVER") || die "the cluster is not complete: $out"
	echo "$out"
	;;
stop)
	if running "$SERVER"; then
		echo "stopping $NODE"
		ctl "$SERVER" stop || die "mongooseimctl stop failed"
		wait_until "$NODE still runs" not_running "$SERVER"
	fi
	echo "$NODE is stopped"
	;;
install)
	[ -n "${MONGOOSEIM_INSTALL:-}" ] || die "set MONGOOSEIM_INSTALL"
	running "$SERVER" && die "$NODE still runs"
	cmd=$(fill "$MONGOOSEIM_INSTALL" "$SERVER")
	echo "installing on $SERVER: $cmd"
	# shellcheck disable=SC2086
	$cmd || die "install failed: $cmd"
	;;
start)
	if running "$SERVER"; then
		echo "$NODE already runs"
	else
		echo "starting $NODE"
		ctl "$SERVER" start || die "mongooseimctl start failed"
	fi
	wait_until "$NODE not started" running "$SERVER"
	ctl "$SERVER" status
	;;
check)
	st=$(ctl "$SERVER" status 2>&1) || die "$NODE is not started: $st"
	if [ -n "${MONGOOSEIM_EXPECT_VERSION:-}" ]; then
		printf '%s\n' "$st" | grep -qF "$MONGOOSEIM_EXPECT_VERSION" ||
			die "$NODE does not run $MONGOOSEIM_EXPECT_VERSION: $st"
	fi
	out=$(cluster_ok "$SERVER") || die "the cluster is not complete: $out"
	if [ -n "${XMPP_PROBE_JID:-}" ]; then
		"$HERE/../common/xmpp-login-check.py" --host "$ADDR" --port "$PORT" \
			--jid "$XMPP_PROBE_JID" \
			--password "${XMPP_PROBE_PASSWORD:-}" ||
			die "no XMPP login on $ADDR:$PORT"
	fi
	echo "$NODE: started, the cluster complete${XMPP_PROBE_JID:+, login ok}"
	;;
retire)
	shift
	for s in "$@"; do
		if running "$s"; then
			echo "stopping $(node_of "$s") of the old cluster"
			ctl "$s" stop || die "mongooseimctl stop failed on $s"
			wait_until "$(node_of "$s") still runs" not_running "$s"
		else
			echo "$(node_of "$s") is not running"
		fi
	done
	;;
*)
	die "unknown step '$STEP' (cluster, stop, install, start, check, retire)"
	;;
esac
