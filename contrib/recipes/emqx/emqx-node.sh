#!/usr/bin/env bash
# emqx-node.sh STEP SERVER - EMQX hot upgrade (patch versions only; the
# node keeps running and its clients stay connected), one node at a time,
# for cutover's plan.yaml in this directory (strategy in-place):
#
#   upgrade  checks, then applies the hot upgrade on SERVER's node:
#            the node runs; the target is a patch release of the running
#            version (same major.minor, higher patch); the hop is listed by
#            "emqx ctl relup list-supported-paths"; the tarball's sha256 is
#            the one in TARBALL.sha256 (checked here, before EMQX sees it);
#            then "emqx ctl relup upgrade TARBALL". Already on the target:
#            nothing to do.
#   check    (the probe) "emqx ctl status" says the node is started, and
#            "emqx ctl relup status" names the target as current and
#            reports no failure
#   status   prints both (for on_failure)
#
# Environment (%s stands for the server's name, e.g. its host name; words
# are split on blanks, no quoting):
#   EMQX_TARGET_VERSION  the patch release to go to, e.g. 5.10.5 (required)
#   EMQX_TARBALL   the target release tarball as the node sees it, e.g.
#                  /opt/emqx/emqx-enterprise-5.10.5-debian12-amd64.tar.gz,
#                  with its digest next to it in TARBALL.sha256 (required)
#   EMQX           the emqx command (default "emqx")
#   EMQX_ON_NODE   prefix that runs a command on the node (default none:
#                  here), e.g. "ssh %s sudo"; used for emqx and sha256sum
# For a minor or major version, use a rolling restart instead (see the
# mosquitto recipe: drain, paced shedding, restart, probe).
set -u
STEP=${1:-}
SERVER=${2:-}

die() { printf '%s: %s\n' "$STEP" "$*" >&2; exit 1; }
fill() { printf '%s' "${1//%s/$2}"; }

# on_node CMD...: CMD on SERVER's node.
on_node() {
	local pre
	pre=$(fill "${EMQX_ON_NODE:-}" "$SERVER")
	# shellcheck disable=SC2086 # a command prefix: split on blanks
	$pre "$@"
}
emqx_ctl() {
	# shellcheck disable=SC2086
	on_node ${EMQX:-emqx} ctl "$@"
}

# running_version: the version "emqx ctl status" reports, or fails.
running_version() {
	local st
	st=$(emqx_ctl status 2>&1) || { echo "$st"; return 1; }
	printf '%s\n' "$st" | sed -n "s/^Node '[^']*' \\([^ ]*\\) is started.*/\\1/p" |
		grep . || { echo "$st"; return 1; }
}

# relup_current: "current: V" of relup status.
relup_current() {
	emqx_ctl relup status 2>/dev/null | sed -n 's/^current: *//p'
}

major_minor() { printf '%s' "${1%.*}"; }
patch_of() { printf '%s' "${1##*.}"; }

[ -n "$SERVER" ] || die "usage: $0 STEP SERVER"
case $STEP in
upgrade)
	T=${EMQX_TARGET_VERSION:-}
	[ -n "$T" ] || die "set EMQX_TARGET_VERSION"
	[ -n "${EMQX_TARBALL:-}" ] || die "set EMQX_TARBALL"
	TARBALL=$(fill "$EMQX_TARBALL" "$SERVER")
	V=$(running_version) || die "$SERVER is not running: $V"
	if [ "$V" = "$T" ] && [ "$(relup_current)" = "$T" ]; then
		echo "$SERVER already runs $T"
		exit 0
	fi
	if [ "$(major_minor "$V")" != "$(major_minor "$T")" ] ||
		! [ "$(patch_of "$T")" -gt "$(patch_of "$V")" ] 2>/dev/null; then
		die "$SERVER runs $V: a hot upgrade to $T is not a patch upgrade (use a rolling restart)"
	fi
	paths=$(emqx_ctl relup list-supported-paths 2>&1) ||
		die "relup list-supported-paths failed: $paths"
	printf '%s\n' "$paths" | grep -F "$V" | grep -qF "$T" ||
		die "$V -> $T is not a supported hot-upgrade path on $SERVER"
	want=$(on_node cat "$TARBALL.sha256" 2>/dev/null | awk '{ print $1; exit }')
	[ -n "$want" ] || die "no digest in $TARBALL.sha256"
	have=$(on_node sha256sum "$TARBALL" 2>/dev/null | awk '{ print $1 }')
	[ "$want" = "$have" ] ||
		die "sha256 of $TARBALL is ${have:-unreadable}, expected $want"
	echo "$SERVER: $V -> $T, tarball sha256 ok"
	out=$(emqx_ctl relup upgrade "$TARBALL" 2>&1) ||
		die "relup upgrade failed: $out"
	printf '%s\n' "$out"
	;;
check)
	T=${EMQX_TARGET_VERSION:-}
	[ -n "$T" ] || die "set EMQX_TARGET_VERSION"
	V=$(running_version) || die "$SERVER is not started: $V"
	rs=$(emqx_ctl relup status 2>&1) || die "relup status failed: $rs"
	cur=$(printf '%s\n' "$rs" | sed -n 's/^current: *//p')
	[ "$cur" = "$T" ] || die "$SERVER: relup status says current ${cur:-?}, not $T"
	printf '%s\n' "$rs" | grep -qiE 'fail|error' &&
		die "$SERVER: relup status reports a failure: $(echo $rs)"
	echo "$SERVER: started, running $T"
	;;
status)
	emqx_ctl status 2>&1
	emqx_ctl relup status 2>&1
	;;
*)
	die "unknown step '$STEP' (upgrade, check, status)"
	;;
esac
