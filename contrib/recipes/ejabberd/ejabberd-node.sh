#!/usr/bin/env bash
# ejabberd-node.sh STEP SERVER ADDR PEER [PORT] - the steps of an ejabberd
# cluster's rolling upgrade, one node at a time, for cutover's plan.yaml in
# this directory. cutover runs them while the node is out of every load
# balancer (drained to 0 sessions, then in maintenance):
#
#   leave    the node leaves the Mnesia cluster (ejabberdctl leave_cluster:
#            ejabberd stops on it, its copy of the database is deleted and
#            its Erlang VM exits); checked from PEER afterwards
#   stop     stops the node if it still runs (a no-op after leave)
#   install  installs the new version ($EJABBERD_INSTALL)
#   start    starts the node unless it runs, waits until it is started
#   join     join_cluster with PEER: the node copies every table (accounts,
#            rosters, ...) from PEER and restarts ejabberd; waits until
#            both nodes list each other
#   check    (the plan's exec probe) the node runs, the version if
#            $EJABBERD_EXPECT_VERSION is set, it and PEER both see a
#            cluster of both, every account PEER has is on the node too,
#            and a real XMPP login on ADDR:PORT succeeds if
#            $XMPP_PROBE_JID is set
#   status   prints what both nodes say about the cluster (for on_failure)
#
# SERVER, ADDR and PORT are the HAProxy server's name, address and port
# ({server} {addr} {port}); PEER ({peer}) is a server of the same backend
# that is in service, hence in the cluster.
#
# Environment (%s stands for a server's name, e.g. its host name):
#   EJABBERDCTL       how to run ejabberdctl for a node (words split on
#                     blanks, no quoting; default "ejabberdctl"), e.g.
#                     "ssh %s sudo ejabberdctl"; with "ejabberdctl --node
#                     ejabberd@%s" from one host, every step but start and
#                     install works through Erlang distribution
#   EJABBERD_NODE     Erlang node name of a server (default ejabberd@%s)
#   EJABBERD_INSTALL  command that installs the new version on the node
#                     (default: apt-get install -y ejabberd, run locally)
#   EJABBERD_START    command that starts the node (default: EJABBERDCTL
#                     start; e.g. "ssh %s sudo systemctl start ejabberd").
#                     After leave_cluster the VM has exited with status 0,
#                     so systemd's Restart=on-failure does not restart it.
#   EJABBERD_WAIT     seconds to wait for a node to start or stop (120)
#   EJABBERD_EXPECT_VERSION  check: the version "ejabberdctl status" must
#                     report ("ejabberd VERSION is running in that node")
#   XMPP_PROBE_JID, XMPP_PROBE_PASSWORD  check: an account that logs in
#                     on ADDR:PORT (../common/xmpp-login-check.py, python3-
#                     slixmpp); XMPP_PROBE_TLS=0 for a listener without
#                     STARTTLS, XMPP_PROBE_INSECURE=1 not to verify its
#                     certificate (connecting by address, not by name)
# cutover sets CUTOVER_SERVER, CUTOVER_PEER, ... as well; the arguments win.
set -u

STEP=${1:-}
SERVER=${2:-}
ADDR=${3:-}
PEER=${4:-}
PORT=${5:-5222}
HERE=$(cd "$(dirname "$0")" && pwd)
WAIT=${EJABBERD_WAIT:-120}

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$STEP" "$*" >&2; exit 1; }

# fill TEMPLATE SERVER: %s -> server name
fill() { printf '%s' "${1//%s/$2}"; }

node_of() { fill "${EJABBERD_NODE:-ejabberd@%s}" "$1"; }

# ctl SERVER ARGS...: ejabberdctl for that server's node.
ctl() {
	local s=$1 cmd
	shift
	cmd=$(fill "${EJABBERDCTL:-ejabberdctl}" "$s")
	# shellcheck disable=SC2086 # a command prefix: split on blanks
	$cmd "$@"
}

# running SERVER: ejabberd runs on that node. "The node ... is started"
# is only the Erlang VM; ejabberd itself (and commands such as
# list_cluster) is there once status says "ejabberd VERSION is running in
# that node" and exits 0.
running() {
	local st
	st=$(ctl "$1" status 2>/dev/null) &&
		printf '%s\n' "$st" | grep -q ' is running in that node'
}

# cluster_of SERVER: the running cluster nodes that node sees.
cluster_of() {
	ctl "$1" list_cluster 2>/dev/null
}

has_line() { printf '%s\n' "$1" | grep -qxF "$2"; }

wait_until() {
	local what=$1 i
	shift
	for ((i = 0; i < WAIT * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	die "$what: not after ${WAIT}s"
}

not_running() { ! running "$@"; }

[ -n "$SERVER" ] || die "usage: $0 STEP SERVER ADDR PEER [PORT]"
NODE=$(node_of "$SERVER")
PEERNODE=
[ -n "$PEER" ] && PEERNODE=$(node_of "$PEER")
peer_ctl() { ctl "$PEER" "$@"; }

need_peer() {
	[ -n "$PEER" ] || die "no peer: no other server of the backend is in service"
	[ "$PEER" != "$SERVER" ] || die "the peer is the node itself"
}

case $STEP in
leave)
	need_peer
	peers=$(peer_ctl list_cluster 2>/dev/null) ||
		die "peer $PEERNODE does not answer"
	has_line "$peers" "$PEERNODE" || die "peer $PEERNODE is not running"
	if running "$SERVER"; then
		mine=$(cluster_of "$SERVER")
		has_line "$mine" "$PEERNODE" ||
			die "$NODE is not in a cluster with $PEERNODE (it sees: $(echo $mine))"
		say "$NODE leaves the cluster of $(echo $mine)"
		ctl "$SERVER" leave_cluster "$NODE" ||
			die "leave_cluster $NODE failed"
		# leave_cluster stops ejabberd and then the VM: wait for that.
		wait_until "$NODE still runs after leave_cluster" \
			not_running "$SERVER"
	elif has_line "$peers" "$NODE"; then
		die "$NODE does not answer but $PEERNODE still lists it"
	else
		# Stopped already (a second run): make sure it is out of the
		# schema too; leave_cluster from the peer does that.
		say "$NODE is not running; removing it from the cluster via $PEERNODE"
		peer_ctl leave_cluster "$NODE" >/dev/null 2>&1 || true
	fi
	peers=$(peer_ctl list_cluster 2>/dev/null) ||
		die "peer $PEERNODE does not answer after the leave"
	has_line "$peers" "$NODE" && die "$PEERNODE still lists $NODE"
	say "$NODE is out; the cluster is $(echo $peers)"
	;;
stop)
	if running "$SERVER"; then
		say "stopping $NODE"
		ctl "$SERVER" stop || die "ejabberdctl stop failed"
		wait_until "$NODE still runs" not_running "$SERVER"
	fi
	say "$NODE is stopped"
	;;
install)
	cmd=$(fill "${EJABBERD_INSTALL:-apt-get install -y ejabberd}" "$SERVER")
	say "installing on $SERVER: $cmd"
	# shellcheck disable=SC2086
	$cmd || die "install failed: $cmd"
	;;
start)
	if running "$SERVER"; then
		# A package's postinst may have started it already.
		say "$NODE already runs"
	else
		cmd=$(fill "${EJABBERD_START:-${EJABBERDCTL:-ejabberdctl} start}" "$SERVER")
		say "starting $NODE: $cmd"
		# shellcheck disable=SC2086
		$cmd || die "start failed: $cmd"
	fi
	wait_until "$NODE not started" running "$SERVER"
	ctl "$SERVER" status | sed -n 's/ is running in that node//p'
	;;
join)
	need_peer
	mine=$(cluster_of "$SERVER") || die "$NODE does not answer"
	if has_line "$mine" "$PEERNODE"; then
		say "$NODE is already in the cluster of $PEERNODE"
	else
		say "$NODE joins the cluster of $PEERNODE"
		ctl "$SERVER" join_cluster "$PEERNODE" ||
			die "join_cluster $PEERNODE failed"
	fi
	joined() {
		running "$SERVER" &&
			has_line "$(cluster_of "$SERVER")" "$PEERNODE" &&
			has_line "$(peer_ctl list_cluster 2>/dev/null)" "$NODE"
	}
	wait_until "$NODE and $PEERNODE do not see each other" joined
	say "cluster: $(cluster_of "$SERVER" | tr '\n' ' ')"
	;;
check)
	need_peer
	running "$SERVER" || die "$NODE is not running: $(ctl "$SERVER" status 2>&1)"
	st=$(ctl "$SERVER" status 2>&1)
	if [ -n "${EJABBERD_EXPECT_VERSION:-}" ]; then
		printf '%s\n' "$st" |
			grep -qF "ejabberd $EJABBERD_EXPECT_VERSION is running" ||
			die "$NODE does not run $EJABBERD_EXPECT_VERSION: $st"
	fi
	# The peer first: an account it has now must be on the node after.
	peers=$(peer_ctl list_cluster 2>/dev/null) || die "$PEERNODE does not answer"
	mine=$(cluster_of "$SERVER") || die "$NODE does not answer"
	for n in "$NODE" "$PEERNODE"; do
		has_line "$mine" "$n" || die "$NODE does not list $n: $(echo $mine)"
		has_line "$peers" "$n" || die "$PEERNODE does not list $n: $(echo $peers)"
	done
	hosts=$(peer_ctl registered_vhosts) || die "registered_vhosts on $PEERNODE"
	for h in $hosts; do
		theirs=$(peer_ctl registered_users "$h" | sort) ||
			die "registered_users $h on $PEERNODE"
		ours=$(ctl "$SERVER" registered_users "$h" | sort) ||
			die "registered_users $h on $NODE"
		missing=$(comm -23 <(printf '%s\n' "$theirs") <(printf '%s\n' "$ours") | grep -c .)
		[ "$missing" = 0 ] ||
			die "$NODE lacks $missing of the $(printf '%s\n' "$theirs" | grep -c .) accounts of $h that $PEERNODE has"
	done
	if [ -n "${XMPP_PROBE_JID:-}" ]; then
		"$HERE/../common/xmpp-login-check.py" --host "$ADDR" --port "$PORT" \
			--jid "$XMPP_PROBE_JID" \
			--password "${XMPP_PROBE_PASSWORD:-}" ||
			die "no XMPP login on $ADDR:$PORT"
	fi
	say "$NODE: started, in the cluster with $PEERNODE, accounts complete${XMPP_PROBE_JID:+, login ok}"
	;;
status)
	for s in "$SERVER" "$PEER"; do
		[ -n "$s" ] || continue
		say "$(node_of "$s"): $(ctl "$s" status 2>&1 | head -n 2 | tr '\n' ' ')"
		say "  cluster: $(cluster_of "$s" | tr '\n' ' ')"
	done
	;;
*)
	die "unknown step '$STEP' (leave, stop, install, start, join, check, status)"
	;;
esac
