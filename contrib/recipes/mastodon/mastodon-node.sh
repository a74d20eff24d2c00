#!/usr/bin/env bash
# mastodon-node.sh STEP SERVER ADDR PORT - Mastodon's web and streaming
# processes behind HAProxy, one at a time, for web.yaml and streaming.yaml
# in this directory. The new release is already in place on the host (code
# checked out, bundle install, assets precompiled, migrations run, as
# Mastodon's upgrade notes say); these steps make the processes load it.
#
#   web-reload        systemctl reload mastodon-web: puma's phased restart
#                     (SIGUSR1: the workers are replaced one by one and load
#                     the new code); then waits until every answer of
#                     http://ADDR:PORT/api/v1/instance names
#                     $MASTODON_EXPECT_VERSION (if set; 10 answers in a row)
#   streaming-restart systemctl restart of the streaming unit: its
#                     long-lived connections close (cutover has shed them
#                     already, at a pace) and it starts on the new code
#
# Environment (%s stands for the server's name, e.g. its host name, %p for
# its port; words are split on blanks, no quoting):
#   MASTODON_SYSTEMCTL  default "systemctl"; e.g. "ssh %s sudo systemctl"
#   MASTODON_WEB_UNIT   default mastodon-web.service
#   MASTODON_STREAMING_UNIT  default mastodon-streaming.service; with one
#                     streaming process per port (Mastodon 4.3's
#                     mastodon-streaming@.service), mastodon-streaming@%p.service
#   MASTODON_EXPECT_VERSION  the release web must report, e.g. 4.2.10
#   MASTODON_WAIT     seconds to wait for the new version (120)
set -u
STEP=${1:-}
SERVER=${2:-}
ADDR=${3:-}
PORT=${4:-}
WAIT=${MASTODON_WAIT:-120}

die() { printf '%s: %s\n' "$STEP" "$*" >&2; exit 1; }
fill() {
	local t=${1//%s/$SERVER}
	printf '%s' "${t//%p/$PORT}"
}
systemctl_on() {
	local cmd
	cmd=$(fill "${MASTODON_SYSTEMCTL:-systemctl}")
	# shellcheck disable=SC2086 # a command prefix: split on blanks
	$cmd "$@"
}

# version_of: the "version" field of /api/v1/instance, or nothing.
version_of() {
	curl -fsS --max-time 5 "http://$ADDR:$PORT/api/v1/instance" 2>/dev/null |
		sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p'
}

[ -n "$SERVER" ] && [ -n "$ADDR" ] && [ -n "$PORT" ] ||
	die "usage: $0 STEP SERVER ADDR PORT"
case $STEP in
web-reload)
	unit=$(fill "${MASTODON_WEB_UNIT:-mastodon-web.service}")
	echo "$SERVER: reloading $unit (phased restart), was $(version_of)"
	systemctl_on reload "$unit" || die "systemctl reload $unit failed"
	[ -n "${MASTODON_EXPECT_VERSION:-}" ] || exit 0
	# Old workers answer until each one is replaced.
	ok=0
	for ((i = 0; i < WAIT * 10 && ok < 10; i++)); do
		if [ "$(version_of)" = "$MASTODON_EXPECT_VERSION" ]; then
			ok=$((ok + 1))
		else
			ok=0
			sleep 0.1
		fi
	done
	[ "$ok" -ge 10 ] ||
		die "$SERVER still answers $(version_of), not $MASTODON_EXPECT_VERSION, after ${WAIT}s"
	echo "$SERVER: every worker runs $MASTODON_EXPECT_VERSION"
	;;
streaming-restart)
	unit=$(fill "${MASTODON_STREAMING_UNIT:-mastodon-streaming.service}")
	echo "$SERVER: restarting $unit"
	systemctl_on restart "$unit" || die "systemctl restart $unit failed"
	;;
*)
	die "unknown step '$STEP' (web-reload, streaming-restart)"
	;;
esac
