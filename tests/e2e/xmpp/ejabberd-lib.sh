# ejabberd-lib.sh - Debian's ejabberd for the end-to-end tests, sourced
# after lib.sh: nodes that run as the current user with their own config,
# spool, logs, cookie and node name under $T/ej/NAME, Erlang distribution
# on loopback only, and a private epmd on a free port (so the system's
# epmd and any ejabberd service installed with the package are neither
# used nor disturbed). Every process is tracked in $T/pids.
#
#	ej_init                  private epmd, cookie, $EJCTL for the hooks
#	ej_node NAME PORT VER    a node NAME@localhost, c2s on 127.0.0.1:PORT,
#	                         reporting version VER
#	ejctl NAME ARGS...       ejabberdctl for node NAME
#	ej_start NAME            start it, wait until it runs (tracked)
#
# shellcheck shell=bash disable=SC2034

EJ_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EJABBERDCTL_BIN=${EJABBERDCTL_BIN:-/usr/sbin/ejabberdctl}

_ej_epmd_up() {
	ERL_EPMD_PORT=$1 epmd -names
}

ej_init() {
	local port pid
	[ -x "$EJABBERDCTL_BIN" ] || e2e_bail "no ejabberd ($EJABBERDCTL_BIN)"
	command -v epmd >/dev/null || e2e_bail "no epmd"
	mkdir -p "$T/ej/home"
	port=$(free_port) || e2e_bail "ej_init: no free port"
	epmd -port "$port" -address 127.0.0.1 </dev/null \
		>"$T/epmd.log" 2>&1 &
	pid=$!
	e2e_track "$pid" "epmd"
	echo "$port" >"$T/ej/epmd.port"
	wait_for "private epmd on port $port" 10 _ej_epmd_up "$port"
	EJ_COOKIE=cutover$RANDOM$RANDOM
	# What the recipe's hooks run as ejabberdctl: %s is the server name.
	EJCTL="$EJ_LIB_DIR/ejabberdctl-test.sh $T %s"
}

# ej_node NAME C2S_PORT VERSION
ej_node() {
	local name=$1 port=$2 version=$3 d=$T/ej/$1
	mkdir -p "$d/spool" "$d/logs"
	cat >"$d/ejabberd.yml" <<-EOF
	# $name: a test node of $_E2E_NAME
	loglevel: warning
	log_rotate_count: 0
	hosts: [localhost]
	# The release this node runs (what status reports); the test's
	# "install" step changes it, see install-release.sh.
	version: "$version"
	listen:
	  - port: $port
	    ip: "127.0.0.1"
	    module: ejabberd_c2s
	    max_stanza_size: 262144
	    access: c2s
	    starttls: false
	auth_method: [internal]
	auth_password_format: plain
	registration_timeout: infinity
	acl:
	  local:
	    user_regexp: ""
	access_rules:
	  local:
	    allow: local
	  c2s:
	    allow: all
	  register:
	    allow: all
	api_permissions:
	  "console commands":
	    from: [ejabberd_ctl]
	    who: all
	    what: "*"
	shaper_rules:
	  max_user_sessions: 10
	modules:
	  mod_register:
	    ip_access: all
	    access: register
	  mod_roster: {}
	  mod_disco: {}
	  mod_ping: {}
	  mod_admin_extra: {}
	EOF
	cat >"$d/ejabberdctl.cfg" <<-EOF
	# sourced by $EJABBERDCTL_BIN --ctl-config (a shell fragment)
	EXEC_CMD=as_current_user
	ERLANG_NODE=$name@localhost
	EJABBERD_CONFIG_PATH=$d/ejabberd.yml
	SPOOL_DIR=$d/spool
	LOGS_DIR=$d/logs
	EJABBERD_PID_PATH=$d/ejabberd.pid
	ERL_OPTIONS="-setcookie $EJ_COOKIE -start_epmd false -kernel inet_dist_use_interface {127,0,0,1}"
	EJABBERD_BYPASS_WARNINGS=true
	EOF
}

ejctl() {
	local name=$1
	shift
	EJABBERDCTL_BIN=$EJABBERDCTL_BIN \
		"$EJ_LIB_DIR/ejabberdctl-test.sh" "$T" "$name" "$@"
}

# The VM says "is started" before ejabberd runs in it.
_ej_started() {
	ejctl "$1" status | grep -q ' is running in that node'
}

ej_start() {
	ejctl "$1" start >>"$T/ej-$1.log" 2>&1 ||
		e2e_bail "ej_start $1: ejabberdctl start failed" \
			"$(tail -n 5 "$T/ej-$1.log")"
	wait_for "ejabberd $1 started" 60 _ej_started "$1"
}
